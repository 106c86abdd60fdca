// One port picker for tests and benchmarks: below the kernel's ephemeral range (bench/lib/free-port.ts says why).
export { freePort } from '../../bench/lib/free-port.js';
