// Writes a generated docs page from its compiled table (run `npm run build:ts` first):
// `errors` → docs/errors.md (lib/errors/codes/*.ts), `check` → docs/check.md (cli/check/findings.ts).
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGES = {
  errors: { module: 'lib/errors/doc.js', render: 'renderErrorsDoc', page: 'errors.md' },
  check: { module: 'cli/check/doc.js', render: 'renderCheckDoc', page: 'check.md' },
};
const which = PAGES[process.argv[2]];
if (which === undefined) {
  console.error(`usage: node scripts/gen-doc.mjs ${Object.keys(PAGES).join('|')}`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mod = await import(join(root, 'dist', which.module));
writeFileSync(join(root, 'docs', which.page), mod[which.render]());
console.log(`wrote docs/${which.page}`);
