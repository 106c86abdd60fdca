// Bench load generator, run as its own process (pinned to its own core by main.ts when taskset exists) so
// that it never competes with the proxies it measures. One mode per run; prints one JSON line.
//   latency  --port P --seconds S --rps R --conns C   fixed-rate requests over keep-alive connections
//   connrate --port P --seconds S --rate R             one new connection per request at a fixed rate
//   maxrps   --port P --seconds S --conns C            closed loop, as fast as the path answers
//   bulk     --port P --seconds S                      one stream, write as fast as possible to a sink
// Requests and answers are SIZE bytes echoed by the backend. Latency is measured from the moment the
// request was due (a request queued behind a slow one counts its wait), the first `--warmup` seconds are
// not recorded.
import { connect, type Socket } from 'node:net';

const SIZE = 128;
const REQUEST = Buffer.alloc(SIZE, 0x61);

interface Args {
  mode: string;
  port: number;
  seconds: number;
  warmup: number;
  rps: number;
  rate: number;
  conns: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { mode: argv[0], port: 0, seconds: 5, warmup: 1, rps: 1000, rate: 500, conns: 10 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '') as keyof Args;
    (a as unknown as Record<string, number>)[k] = Number(argv[i + 1]);
  }
  return a;
}

const now = (): number => performance.now();

class Recorder {
  readonly samples: number[] = [];
  errors = 0;
  constructor(private readonly recordFrom: number) {}
  record(dueAt: number, at: number): void {
    if (dueAt >= this.recordFrom) this.samples.push(at - dueAt);
  }
  summary(seconds: number): Record<string, number> {
    const s = this.samples.sort((x, y) => x - y);
    const q = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    return { count: s.length, errors: this.errors, rps: Math.round(s.length / seconds), p50Ms: r3(q(0.5)), p90Ms: r3(q(0.9)), p99Ms: r3(q(0.99)), maxMs: r3(s[s.length - 1] ?? NaN) };
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => {
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
    socket.on('error', () => this.rec.errors++);
  }
  get idle(): boolean {
    return !this.busy;
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function latency(a: Args): Promise<Record<string, number>> {
  const start = now();
  const rec = new Recorder(start + a.warmup * 1000);
  const conns = await Promise.all(Array.from({ length: a.conns }, () => open(a.port).then((s) => new KeepAliveConn(s, rec))));
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

async function connrate(a: Args): Promise<Record<string, number>> {
  const start = now();
  const rec = new Recorder(start + a.warmup * 1000);
  const end = start + (a.warmup + a.seconds) * 1000;
  const interval = 1000 / a.rate;
  let due = start;
  let open = 0;
  const pending = new Set<Socket>();
  const one = (dueAt: number): void => {
    open++;
    let got = 0;
    const s = connect({ host: '127.0.0.1', port: a.port, noDelay: true }, () => s.write(REQUEST));
    pending.add(s);
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= SIZE) {
        rec.record(dueAt, now());
        s.end();
      }
    });
    s.on('error', () => rec.errors++);
    s.on('close', () => {
      open--;
      pending.delete(s);
    });
    s.resume();
  };
  while (due < end) {
    const t = now();
    while (due <= t && due < end) {
      one(due);
      due += interval;
    }
    await sleep(1);
  }
  for (let w = 0; w < 50 && open > 0; w++) await sleep(100);
  // Connections still unanswered 5 s after the last was due count as errors.
  rec.errors += pending.size;
  for (const s of pending) s.destroy();
  return rec.summary(a.seconds);
}

async function maxrps(a: Args): Promise<Record<string, number>> {
  const start = now();
  const rec = new Recorder(start + a.warmup * 1000);
  const end = start + (a.warmup + a.seconds) * 1000;
  const again = (c: KeepAliveConn): void => {
    if (now() < end) c.submit(now());
  };
  const conns = await Promise.all(Array.from({ length: a.conns }, () => open(a.port).then((s) => new KeepAliveConn(s, rec, again))));
  for (const c of conns) c.submit(now());
  await sleep((a.warmup + a.seconds) * 1000 + 300);
  for (const c of conns) c.close();
  return rec.summary(a.seconds);
}

async function bulk(a: Args): Promise<Record<string, number>> {
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  const s = await open(a.port);
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
  return { bytes, seconds: Math.round(secs * 1000) / 1000, gbitPerS: Math.round(((bytes * 8) / secs / 1e9) * 1000) / 1000 };
}

const args = parseArgs(process.argv.slice(2));
const modes: Record<string, (a: Args) => Promise<Record<string, number>>> = { latency, connrate, maxrps, bulk };
const run = modes[args.mode];
if (!run) {
  console.error(`unknown mode ${args.mode}; one of ${Object.keys(modes).join(', ')}`);
  process.exit(2);
}
console.log(JSON.stringify({ mode: args.mode, ...(await run(args)) }));
process.exit(0);
