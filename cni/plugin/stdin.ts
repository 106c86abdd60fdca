import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { WeftError } from '../../lib/errors/index.js';

/** Character devices with these majors are terminals (tty, console/ptmx, pts): nothing to read there. */
const TTY_MAJORS = new Set([4, 5, ...Array.from({ length: 8 }, (_, i) => 136 + i)]);
const CHUNK_BYTES = 64 * 1024;

export interface StdinBounds {
  /** Time from the call until stdin must have reached end-of-file. */
  readonly timeoutMs: number;
  /** Bytes accepted before the read is refused (the rest is never read). */
  readonly maxBytes: number;
}

/**
 * Reads the network config from fd 0 without ever blocking the event loop, so that a runtime that never
 * closes stdin meets the time bound (and the process's hard limit still fires). A blocking read of a pipe
 * cannot be abandoned: it freezes the loop when done synchronously, and when handed to libuv's thread pool
 * it makes process.exit wait for it forever (libuv joins its threads at exit; seen on Node 20).
 *
 * A runtime's stdin is a pipe it has already written and closed (containerd and CRI-O run plugins through
 * libcni, i.e. Go's os/exec, which hands over a pipe): that is read here synchronously through a second,
 * non-blocking open of the same pipe (/proc/self/fd/0), which loads no stream module (see plugin.ts on
 * start-up cost). Only when that would wait (the writer is slow or never closes), or when stdin is a
 * socket (a Node parent such as the lab's kubelet passes a socketpair, which cannot be reopened and has no
 * non-blocking read without `net`), does it fall back to process.stdin, which waits in the event loop and
 * costs the ~10 ms of loading `net` and streams.
 */
export async function readStdinBounded(bounds: StdinBounds): Promise<string> {
  const deadline = Date.now() + bounds.timeoutMs;
  const acc = new Accumulator(bounds.maxBytes);
  let st;
  try {
    st = fstatSync(0);
  } catch {
    return ''; // no fd 0 at all: nothing was sent
  }
  if (st.isCharacterDevice() && TTY_MAJORS.has(Math.floor(st.rdev / 256) & 0xfff)) return ''; // VERSION by hand
  if (!st.isFIFO() && !st.isSocket()) {
    // A regular file or /dev/null: reads never wait; the cap bounds /dev/zero and friends.
    while (readInto(0, acc)) {
      // until end-of-file
    }
    return acc.text();
  }
  if (st.isFIFO() && drainedWithoutWaiting(acc)) return acc.text();
  return readStream(acc, deadline, bounds.timeoutMs);
}

/** Collects stdin and refuses it once it passes the cap. */
class Accumulator {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.max) throw stdinError(`stdin is larger than ${this.max} bytes`);
    this.chunks.push(chunk);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** One read into `acc`; false at end-of-file. Throws EAGAIN from a non-blocking fd with nothing to read. */
function readInto(fd: number, acc: Accumulator): boolean {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) return false;
  acc.add(buf.subarray(0, n));
  return true;
}

/**
 * Reads the pipe through a non-blocking description of its own (opening /proc/self/fd/0 makes one, so
 * fd 0's flags, shared with whoever else holds it, stay as they are). True when it reached end-of-file;
 * false when the rest has not been written yet, or the pipe cannot be reopened: the stream goes on from
 * there (bytes read so far stay in `acc`; the pipe has handed them over once).
 */
function drainedWithoutWaiting(acc: Accumulator): boolean {
  let fd: number;
  try {
    fd = openSync('/proc/self/fd/0', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    while (readInto(fd, acc)) {
      // until end-of-file or EAGAIN
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
    throw err;
  } finally {
    closeSync(fd);
  }
}

function readStream(acc: Accumulator, deadline: number, timeoutMs: number): Promise<string> {
  const stdin = process.stdin;
  return new Promise<string>((resolve, reject) => {
    const done = (err: unknown, text?: string): void => {
      clearTimeout(timer);
      stdin.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error');
      stdin.pause();
      if (err === undefined) resolve(text ?? '');
      else reject(err instanceof WeftError ? err : stdinError((err as Error).message));
    };
    const timer = setTimeout(() => done(stdinError(`stdin was not closed within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    stdin.on('data', (chunk: Buffer) => {
      try {
        acc.add(chunk);
      } catch (err) {
        done(err);
      }
    });
    stdin.on('end', () => done(undefined, acc.text()));
    stdin.on('error', (err) => done(err));
  });
}

function stdinError(reason: string): WeftError {
  return new WeftError('ERR_WEFT_CNI_STDIN_IO', { reason });
}
