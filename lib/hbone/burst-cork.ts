import type { Writable } from 'node:stream';

// Batches the writes of one burst into one writev. A TLS read feeding an HTTP/2 session hands each 16 KiB
// DATA frame to JS as its own chunk (measured: 8 KiB on average, split at read boundaries), and writing
// each at once cost one write syscall per chunk: the receiving agent spent up to 73 % of its busy time in
// writeBuffer (issue 14). A corked writable buffers them; uncorking once per event-loop iteration sends
// them in one writev. Measured in-process on an HBONE tunnel with 256 MiB of 64 KiB writes:
//   uncork on process.nextTick: 1 chunk per writev (Node runs the tick queue after every native callback,
//                                i.e. after every frame: no batching at all);
//   uncork on setImmediate:     16 chunks per writev (the check phase comes after all of the poll phase's
//                                reads).
// One shared Immediate per iteration for all corked writables, and the list is reused: nothing is
// allocated per burst or per chunk, and nothing at all while a tunnel is idle.

let corked: Writable[] = [];
let spare: Writable[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const list = corked;
  corked = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) list[i].uncork();
  list.length = 0;
}

/**
 * Corks `w` until the check phase of this event-loop iteration, unless it is corked already (Node counts
 * nested corks; whoever corked it uncorks it). Call it before each write of a burst.
 */
export function corkForBurst(w: Writable): void {
  if (w.writableCorked > 0) return;
  w.cork();
  corked.push(w);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}
