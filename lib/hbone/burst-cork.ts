// Batches the writes of one burst into one writev. A TLS read feeding an HTTP/2 session hands each DATA
// frame to JS as its own chunk (measured: 8 KiB on average, frames split at read boundaries), and writing
// each at once cost one write syscall per chunk: the receiving agent spent up to 73 % of its busy time in
// writeBuffer (issue 14). A pump corks its writer on a large chunk and this module uncorks it in the check
// phase of the same event-loop iteration, sending the whole burst in one writev. Measured in-process on an
// HBONE tunnel, 256 MiB in 64 KiB writes:
//   uncork on process.nextTick: 1 chunk per writev (Node runs the tick queue after every native callback,
//                                i.e. after every frame: no batching at all);
//   uncork on setImmediate:     16 chunks per writev (the check phase comes after the poll phase's reads).
// Small chunks never cork (BURST_CHUNK_BYTES): a request or an answer goes out at once, and a keep-alive
// round trip pays nothing for this. One shared Immediate per iteration for all pumps of the process and a
// reused list: nothing is allocated per burst or per chunk, and nothing at all while a tunnel is idle.

/**
 * Chunks from this size on cork their writer. A bulk stream brings 8–16 KiB chunks from HTTP/2 and up to
 * 64 KiB from TCP reads; request/response traffic mostly less than 4 KiB. Measured with hbone-loopback's
 * client and server processes at 2 000 keep-alive requests/s of 128 B, CPU per request of both, three
 * rounds each on a loaded machine: before any corking 92–112 µs; corking every chunk 121–127 µs (one
 * Immediate per write); with this threshold 99–118 µs, i.e. as before.
 */
export const BURST_CHUNK_BYTES = 4096;

/** Something that corked writers during this iteration and uncorks them at its end. */
export interface BurstOwner {
  endBurst(): void;
}

let owners: BurstOwner[] = [];
let spare: BurstOwner[] = [];
let scheduled = false;

function endOfIteration(): void {
  scheduled = false;
  const list = owners;
  owners = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) list[i].endBurst();
  list.length = 0;
}

/** Calls `owner.endBurst()` in the check phase of this iteration. Call once per burst (after corking). */
export function endBurstThisIteration(owner: BurstOwner): void {
  owners.push(owner);
  if (!scheduled) {
    scheduled = true;
    setImmediate(endOfIteration);
  }
}
