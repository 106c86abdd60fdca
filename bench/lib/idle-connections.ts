import { connect, type Socket } from 'node:net';

// Idle connections for the memory benches: each sends 128 bytes, reads the echo (so the whole path is
// set up: capture, tunnel, upstream connection), then stays open doing nothing. bench/conn-memory opens
// them on loopback from its own process; bench/l4-lab through loadgen's `hold` mode inside a lab pod.

const SIZE = 128;
/** Connections being set up at once: a burst of thousands would only measure the accept backlog. */
const BATCH = 200;

/** One connection: 128 bytes out, the echo back, then it stays open. */
export function openIdle(host: string, port: number): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const s = connect({ host, port, noDelay: true });
    let got = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no echo within 30 s'));
    }, 30_000);
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= SIZE) {
        clearTimeout(timer);
        s.removeAllListeners('data');
        s.on('error', () => undefined);
        resolveSocket(s);
      }
    });
    s.write(Buffer.alloc(SIZE, 0x61));
  });
}

/** Opens idle connections until `into` holds `n`, BATCH at a time. */
export async function openMany(host: string, port: number, n: number, into: Socket[]): Promise<void> {
  while (into.length < n) into.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - into.length) }, () => openIdle(host, port)))));
}

/** Ends every connection and waits until all are closed. */
export async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((r) => (s.destroyed ? r() : (s.once('close', () => r()), s.end())))));
  sockets.length = 0;
}
