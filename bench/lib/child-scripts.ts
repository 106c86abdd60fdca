import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The bench/lib programs a benchmark starts as child processes, by their built path (dist/bench/lib);
// a lab pod runs them by the same path, as it shares this machine's file system.
const lib = dirname(fileURLToPath(import.meta.url));
export const LOADGEN = join(lib, 'loadgen.js');
export const BACKEND = join(lib, 'echo-sink-backend.js');
