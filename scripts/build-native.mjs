// Builds the node agent's N-API addon offline with the node-gyp that ships inside npm, against the
// headers in /usr/include/node. Skipped (with a message) when the addon folder does not exist yet.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'node-agent', 'native');
if (!existsSync(join(dir, 'binding.gyp'))) {
  console.log('build:native: no node-agent/native/binding.gyp, nothing to build');
  process.exit(0);
}
const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
const gyp = join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodedir = process.env.WEFT_NODEDIR ?? '/usr';
execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: dir, stdio: 'inherit' });
