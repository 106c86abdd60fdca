// Writes docs/errors.md from the compiled error table (run `npm run build:ts` first).
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderErrorsDoc } = await import(join(root, 'dist', 'lib', 'errors', 'doc.js'));
writeFileSync(join(root, 'docs', 'errors.md'), renderErrorsDoc());
console.log('wrote docs/errors.md');
