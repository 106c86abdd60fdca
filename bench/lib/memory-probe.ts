import { procStatus } from './proc-status.js';
import { writeHeapSnapshot } from 'node:v8';

/**
 * Lets a bench read a role process's memory without an inspector: when the role runs with
 * WEFT_BENCH_MEMORY_PROBE=1 (and --expose-gc), each `mem` line on its stdin is answered with one
 * `MEM {json}` line on stdout: VmRSS as it is, then after a forced GC VmRSS and process.memoryUsage()
 * (bytes). `heap <file>` writes a heap snapshot there (after a GC) and answers `HEAP <file>`.
 * Without the variable nothing is installed, so the throughput benches run the roles unchanged.
 */
export function installMemoryProbe(): void {
  if (process.env.WEFT_BENCH_MEMORY_PROBE !== '1') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('WEFT_BENCH_MEMORY_PROBE=1 needs node --expose-gc');
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const [cmd, arg] = buffered.slice(0, nl).trim().split(' ');
      buffered = buffered.slice(nl + 1);
      if (cmd === 'mem') {
        const vmRssBeforeGc = vmRss();
        gc();
        console.log(`MEM ${JSON.stringify({ vmRssBeforeGc, vmRss: vmRss(), ...process.memoryUsage() })}`);
      } else if (cmd === 'heap' && arg) {
        gc();
        writeHeapSnapshot(arg);
        console.log(`HEAP ${arg}`);
      }
    }
  });
}

/** Resident set size in bytes (what `ps` and the kubelet see). */
function vmRss(): number {
  return procStatus(['VmRSS']).VmRSS * 1024;
}
