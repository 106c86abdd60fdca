import type { Duplex } from 'node:stream';

// Writes gathered over one event-loop turn and sent together after the poll phase (setImmediate), like
// Redis' beforeSleep reply flush. Each write wakes the peer; written one by one between the parsing of
// the next requests, the woken peers preempted the waypoint about once per request (1.09 involuntary
// context switches per request in bench/waypoint vs 0.28 for haproxy), and on this VM a context switch
// costs more than the JavaScript of a request. Batched, the turn's writes go out back to back.
// A socket's batched bytes are always flushed before any direct write to it, so order is kept.

export interface BatchedSocket {
  readonly socket: Duplex;
  /** Bytes waiting for the end of the turn: null, one Buffer or several. */
  pending: Buffer | Buffer[] | null;
}

let targets: BatchedSocket[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const list = targets;
  targets = [];
  for (const t of list) flush(t);
}

/** Queues bytes for the end of this event-loop turn. */
export function writeLater(t: BatchedSocket, data: Buffer): void {
  const p = t.pending;
  if (p === null) {
    t.pending = data;
    targets.push(t);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushAll);
    }
  } else if (Array.isArray(p)) p.push(data);
  else t.pending = [p, data];
}

/** Sends a socket's queued bytes now (before a direct write, or at the end of the turn). */
export function flush(t: BatchedSocket): boolean {
  const p = t.pending;
  if (p === null) return true;
  t.pending = null;
  const s = t.socket;
  if (s.destroyed || !s.writable) return true;
  if (!Array.isArray(p)) return s.write(p);
  s.cork();
  let ok = true;
  for (const b of p) ok = s.write(b);
  s.uncork();
  return ok;
}
