// The load generator of the TCP benches (bench/hbone-loopback runs it on loopback, pinned to its own core;
// bench/l4-lab runs it inside the client pod's network namespace, `ip netns exec`, so that every variant
// is pod → pod and weft's capture sees it as the pod's own traffic). One mode per run, as its own process
// so that it never competes with the proxies it measures; prints one JSON line.
//   ping     --host H --port P                              one echo round trip, retried for up to 20 s
//   latency  --host H --port P --seconds S --rps R --conns C fixed-rate (open loop) over keep-alive conns
//   connrate --host H --port P --seconds S --rate R          one new connection per request, fixed rate
//   maxrps   --host H --port P --seconds S --conns C         closed loop, as fast as the path answers
//   bulk     --host H --port P --seconds S [--unit mib|gbit] one stream, write as fast as possible to a
//                                                            sink; the rate as mibPerS (default) or gbitPerS
//   hold     --host H --port P --conns C                     C idle connections (128 bytes echoed on each,
//                                                            bench/lib/idle-connections.ts), one JSON line
//                                                            once all are open; kept until stdin closes,
//                                                            then all closed (a second JSON line)
// --host defaults to 127.0.0.1. Requests and answers are 128 bytes echoed by the backend
// (bench/lib/echo-sink-backend.ts). Latency runs from the moment a request was due (a request queued
// behind a slow one counts its wait: no coordinated omission); the first `--warmup` seconds are not
// recorded.
import { connect, type Socket } from 'node:net';
import { closeAll, openMany } from './idle-connections.js';

const SIZE = 128;
const REQUEST = Buffer.alloc(SIZE, 0x61);

interface Args {
  mode: string;
  host: string;
  unit: 'mib' | 'gbit';
  port: number;
  seconds: number;
  warmup: number;
  rps: number;
  rate: number;
  conns: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { mode: argv[0] ?? '', host: '127.0.0.1', unit: 'mib', port: 0, seconds: 4, warmup: 1, rps: 1000, rate: 500, conns: 10 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (k === 'host') a.host = v;
    else if (k === 'unit') {
      if (v !== 'mib' && v !== 'gbit') throw new Error(`--unit takes mib or gbit, not ${v}`);
      a.unit = v;
    } else if (k in a) (a as unknown as Record<string, number>)[k] = Number(v);
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

class Recorder {
  readonly samples: number[] = [];
  errors = 0;
  /** Recorded requests that failed or were never answered: they count as infinitely slow. */
  failed = 0;
  /** errno names (or 'unanswered') of failed connections, so that a failing phase says how it failed. */
  readonly codes: Record<string, number> = {};
  constructor(private readonly recordFrom: number) {}
  record(dueAt: number, at: number): void {
    if (dueAt >= this.recordFrom) this.samples.push(at - dueAt);
  }
  fail(err: Error | string, dueAt = -1): void {
    this.errors++;
    if (dueAt >= this.recordFrom) this.failed++;
    const code = typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? err.message);
    this.codes[code] = (this.codes[code] ?? 0) + 1;
  }
  /**
   * Percentiles over answered and failed requests together (a failure sorts last, as +∞), so that a
   * path that drops half its connections has no p50 rather than the p50 of the lucky half; a
   * percentile that falls on a failure is reported as null.
   */
  summary(seconds: number): Record<string, number | null | Record<string, number>> {
    const s = this.samples.sort((x, y) => x - y);
    const total = s.length + this.failed;
    const q = (p: number): number | null => {
      if (total === 0) return null;
      const i = Math.min(total - 1, Math.floor(p * total));
      return i < s.length ? r3(s[i]) : null;
    };
    return {
      count: s.length,
      errors: this.errors,
      ...(this.errors ? { errorCodes: this.codes, failedRecorded: this.failed } : {}),
      rps: Math.round(s.length / seconds),
      p50Ms: q(0.5),
      p90Ms: q(0.9),
      p99Ms: q(0.99),
      maxMs: this.failed ? null : r3(s[s.length - 1] ?? NaN),
    };
  }
}

function open(a: Args): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: a.host, port: a.port, noDelay: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** One keep-alive connection with at most one request in flight and a queue of due times behind it. */
class KeepAliveConn {
  private busy = false;
  private got = 0;
  private dueAt = 0;
  private readonly queue: number[] = [];
  constructor(
    private readonly socket: Socket,
    private readonly rec: Recorder,
    private readonly onAnswer?: (c: KeepAliveConn) => void,
  ) {
    socket.on('data', this.onData);
    socket.on('error', (e) => this.rec.fail(e));
  }
  submit(dueAt: number): void {
    if (this.busy) this.queue.push(dueAt);
    else this.send(dueAt);
  }
  close(): void {
    this.socket.destroy();
  }
  private send(dueAt: number): void {
    this.busy = true;
    this.got = 0;
    this.dueAt = dueAt;
    this.socket.write(REQUEST);
  }
  private readonly onData = (c: Buffer): void => {
    this.got += c.length;
    if (this.got < SIZE) return;
    this.rec.record(this.dueAt, now());
    this.busy = false;
    const next = this.queue.shift();
    if (next !== undefined) this.send(next);
    else this.onAnswer?.(this);
  };
}

/** One round trip; the path may still be coming up (certificates, capture), so retry for 20 s. */
async function ping(a: Args): Promise<Record<string, unknown>> {
  const deadline = now() + 20_000;
  let attempts = 0;
  for (;;) {
    attempts++;
    const t0 = now();
    try {
      const s = await open(a);
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        const timer = setTimeout(() => reject(new Error('no answer in 2 s')), 2000);
        s.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= SIZE) {
            clearTimeout(timer);
            resolve();
          }
        });
        s.on('error', reject);
        s.write(REQUEST);
      }).finally(() => s.destroy());
      return { attempts, ms: r3(now() - t0) };
    } catch (err) {
      if (now() > deadline) throw err;
      await sleep(250);
    }
  }
}

async function latency(a: Args): Promise<Record<string, unknown>> {
  const rec = new Recorder(now() + a.warmup * 1000);
  const conns = await Promise.all(Array.from({ length: a.conns }, () => open(a).then((s) => new KeepAliveConn(s, rec))));
  const t0 = now();
  const end = t0 + (a.warmup + a.seconds) * 1000;
  const interval = 1000 / a.rps;
  let due = t0;
  let i = 0;
  while (due < end) {
    const t = now();
    while (due <= t && due < end) {
      conns[i++ % conns.length].submit(due);
      due += interval;
    }
    await sleep(1);
  }
  await sleep(500);
  for (const c of conns) c.close();
  return rec.summary(a.seconds);
}

async function connrate(a: Args): Promise<Record<string, unknown>> {
  const start = now();
  const rec = new Recorder(start + a.warmup * 1000);
  const end = start + (a.warmup + a.seconds) * 1000;
  const interval = 1000 / a.rate;
  let due = start;
  const pending = new Map<Socket, number>();
  const one = (dueAt: number): void => {
    let got = 0;
    const s = connect({ host: a.host, port: a.port, noDelay: true }, () => s.write(REQUEST));
    pending.set(s, dueAt);
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= SIZE && pending.has(s)) {
        rec.record(dueAt, now());
        pending.delete(s);
        s.end();
      }
    });
    s.on('error', (e) => {
      if (pending.has(s)) rec.fail(e, dueAt);
      pending.delete(s);
    });
    s.on('close', () => {
      if (pending.has(s)) rec.fail('closed before answering', dueAt);
      pending.delete(s);
    });
  };
  while (due < end) {
    const t = now();
    while (due <= t && due < end) {
      one(due);
      due += interval;
    }
    await sleep(1);
  }
  for (let w = 0; w < 50 && pending.size > 0; w++) await sleep(100);
  // Connections still unanswered 5 s after the last was due count as failed.
  for (const [s, dueAt] of pending) {
    rec.fail('unanswered', dueAt);
    s.destroy();
  }
  return rec.summary(a.seconds);
}

async function maxrps(a: Args): Promise<Record<string, unknown>> {
  const start = now();
  const rec = new Recorder(start + a.warmup * 1000);
  const end = start + (a.warmup + a.seconds) * 1000;
  const again = (c: KeepAliveConn): void => {
    if (now() < end) c.submit(now());
  };
  const conns = await Promise.all(Array.from({ length: a.conns }, () => open(a).then((s) => new KeepAliveConn(s, rec, again))));
  for (const c of conns) c.submit(now());
  await sleep((a.warmup + a.seconds) * 1000 + 300);
  for (const c of conns) c.close();
  return rec.summary(a.seconds);
}

async function bulk(a: Args): Promise<Record<string, unknown>> {
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  const s = await open(a);
  const answer = new Promise<bigint>((resolve, reject) => {
    const got: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      got.push(c);
      const all = Buffer.concat(got);
      if (all.length >= 8) resolve(all.readBigUInt64BE(0));
    });
    s.on('end', () => reject(new Error('sink closed before answering')));
    s.on('error', reject);
  });
  const t0 = now();
  const end = t0 + a.seconds * 1000;
  while (now() < end) {
    if (!s.write(chunk)) await new Promise<void>((r) => s.once('drain', r));
  }
  s.write(Buffer.from([0])); // end mark: the sink answers its byte count
  const bytes = Number(await answer);
  s.destroy();
  const secs = (now() - t0) / 1000;
  const rate = a.unit === 'gbit' ? { gbitPerS: r3((bytes * 8) / secs / 1e9) } : { mibPerS: Math.round((bytes / 1048576 / secs) * 10) / 10 };
  return { bytes, seconds: r3(secs), ...rate };
}

/** Opens the idle connections, says so, and holds them until stdin closes (the bench has measured). */
async function hold(a: Args): Promise<Record<string, unknown>> {
  const t0 = now();
  const sockets: Socket[] = [];
  await openMany(a.host, a.port, a.conns, sockets);
  let lost = 0;
  for (const s of sockets) s.once('close', () => lost++);
  console.log(JSON.stringify({ mode: 'hold', open: sockets.length, openMs: Math.round(now() - t0) }));
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve).once('close', resolve).resume();
  });
  // Connections the path closed while they were held (they would make the memory per connection look low).
  const closedEarly = lost;
  const held = sockets.length;
  await closeAll(sockets);
  return { closed: held, closedEarly };
}

const args = parseArgs(process.argv.slice(2));
const modes: Record<string, (a: Args) => Promise<Record<string, unknown>>> = { ping, latency, connrate, maxrps, bulk, hold };
const run = modes[args.mode];
if (!run) {
  console.error(`unknown mode ${args.mode}; one of ${Object.keys(modes).join(', ')}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify({ mode: args.mode, ...(await run(args)) }));
  process.exit(0);
} catch (err) {
  console.error(`${args.mode} against ${args.host}:${args.port} failed: ${(err as Error).message}`);
  process.exit(1);
}
