import type { Writable } from 'node:stream';

// Batches the writes of one burst into one writev. A TLS read feeding an HTTP/2 session hands each DATA
// frame to JS as its own chunk (measured: 8 KiB on average, frames split at read boundaries), and writing
// each at once cost one write syscall per chunk: the receiving agent spent up to 73 % of its busy time in
// writeBuffer (issue 14). The first chunk of an event-loop iteration is written at once (a lone request
// or answer waits for nothing); later ones cork the writable, and the check phase of the same iteration
// uncorks it, sending them in one writev. Measured in-process on an HBONE tunnel, 256 MiB in 64 KiB writes:
//   uncork on process.nextTick: 1 chunk per writev (Node runs the tick queue after every native callback,
//                                i.e. after every frame: no batching at all);
//   uncork on setImmediate:     16 chunks per writev (the check phase comes after the poll phase's reads).
// One shared Immediate per iteration for all writables of the process, a reused list and a mark on the
// writable: nothing is allocated per burst or per chunk, and nothing at all while a tunnel is idle.

const kBurst = Symbol('weft.burst');

/** Per writable: 0 untouched this iteration, 1 written through, 2 corked by us. */
type Marked = Writable & { [kBurst]?: 0 | 1 | 2 };

let touched: Marked[] = [];
let spare: Marked[] = [];
let scheduled = false;

function endOfIteration(): void {
  scheduled = false;
  const list = touched;
  touched = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) {
    const w = list[i];
    if (w[kBurst] === 2) w.uncork();
    w[kBurst] = 0;
  }
  list.length = 0;
}

/**
 * Call before each write of a pump: the first write of an iteration goes through, the rest of the burst
 * is corked until the check phase. A writable corked by someone else is left alone (Node counts nested
 * corks; whoever corked it uncorks it).
 */
export function corkForBurst(writable: Writable): void {
  const w = writable as Marked;
  const state = w[kBurst];
  if (state === 2) return;
  if (state === 1) {
    if (w.writableCorked === 0) {
      w.cork();
      w[kBurst] = 2;
    }
    return;
  }
  w[kBurst] = 1;
  touched.push(w);
  if (!scheduled) {
    scheduled = true;
    setImmediate(endOfIteration);
  }
}
