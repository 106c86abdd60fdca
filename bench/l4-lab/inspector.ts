// Looks inside a running node agent through the V8 inspector, so that the bench can say where time and
// memory go without restarting the agent under other flags. main.ts opens the inspector with SIGUSR1 (it
// then listens on 127.0.0.1:9229 in the agent's network namespace, the node's) and runs this file in that
// namespace (`ip netns exec <node> node inspector.js <mode>`). Prints one JSON line.
//   memory          forced GC, then process.memoryUsage() of the agent
//   heap [--top N]  forced GC, heap snapshot, self size and count per constructor (largest N)
//   cpu [--top N]   sampling CPU profile from `STARTED` until stdin closes, self time per function and area
import { fetch, WebSocket } from 'undici';

const PORT = 9229;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A minimal Chrome DevTools Protocol session over undici's WebSocket. */
class Session {
  private id = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, (params: Record<string, unknown>) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method) this.listeners.get(msg.method)?.(msg.params ?? {});
    });
  }

  static async open(): Promise<Session> {
    let url: string | undefined;
    for (let i = 0; i < 50 && url === undefined; i++) {
      try {
        const list = (await (await fetch(`http://127.0.0.1:${PORT}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
        url = list[0]?.webSocketDebuggerUrl;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (url === undefined) throw new Error(`no inspector on 127.0.0.1:${PORT} (was SIGUSR1 sent to the agent?)`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)));
    });
    return new Session(ws);
  }

  on(method: string, fn: (params: Record<string, unknown>) => void): void {
    this.listeners.set(method, fn);
  }

  post<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.id;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

async function memory(s: Session): Promise<Record<string, unknown>> {
  await s.post('HeapProfiler.collectGarbage');
  const r = await s.post<{ result: { value: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  return JSON.parse(r.result.value) as Record<string, unknown>;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

async function heap(s: Session, top: number): Promise<Record<string, unknown>> {
  await s.post('HeapProfiler.enable');
  await s.post('HeapProfiler.collectGarbage');
  const chunks: string[] = [];
  s.on('HeapProfiler.addHeapSnapshotChunk', (p) => chunks.push(String(p.chunk)));
  await s.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const text = chunks.join('');
  const snap = JSON.parse(text) as Snapshot;
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
  const by = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    total += size;
    // Objects and closures by constructor/function name; strings, code, arrays etc. by their type only.
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${snap.strings[snap.nodes[i + nameAt]]}` : type;
    const e = by.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += size;
    by.set(key, e);
  }
  const all = [...by].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.bytes - a.bytes);
  return { snapshotBytes: text.length, heapBytes: total, nodes: snap.nodes.length / width, top: all.slice(0, top), counts: Object.fromEntries(all.filter((e) => e.count >= 20).map((e) => [e.name, e.count])) };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Where a function lives, coarse enough to read: what the agent's CPU time is spent on. */
function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native/builtin';
  if (/node:(internal\/)?(_)?tls|internal\/tls/.test(url)) return 'node tls';
  if (/internal\/http2|node:http2/.test(url)) return 'node http2';
  if (/internal\/streams|node:stream/.test(url)) return 'node streams';
  if (/node:net|stream_base_commons|internal\/net/.test(url)) return 'node net';
  if (/node_modules\/pino|sonic-boom|thread-stream/.test(url)) return 'logging (pino)';
  if (/node_modules\/prom-client/.test(url)) return 'metrics (prom-client)';
  if (/node_modules\//.test(url)) return 'other dependencies';
  if (/\/dist\/lib\/hbone\//.test(url)) return 'weft lib/hbone';
  if (/\/dist\/node-agent\//.test(url)) return 'weft node-agent';
  if (/\/dist\/lib\//.test(url)) return 'weft lib (other)';
  if (url.startsWith('node:')) return 'node (other)';
  return 'other';
}

async function cpu(s: Session, top: number): Promise<Record<string, unknown>> {
  await s.post('Profiler.enable');
  // 1 ms: finer sampling slowed the profiled path noticeably on a loaded machine.
  await s.post('Profiler.setSamplingInterval', { interval: 1000 });
  await s.post('Profiler.start');
  // The caller starts its load after this line and closes our stdin when the load is over, so that the
  // profile covers exactly the load (starting this program takes longer than a phase on a busy machine).
  console.log('STARTED');
  await new Promise<void>((resolve) => {
    process.stdin.resume();
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  const { profile } = await s.post<{ profile: { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] } }>('Profiler.stop');
  await s.post('Profiler.disable');
  const hits = profile.samples.length || 1;
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const n of profile.nodes) {
    const c = counts.get(n.id) ?? 0;
    if (c === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^file:\/\/.*\/dist\//, 'dist/').replace(/^file:\/\/.*\/node_modules\//, '');
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + c);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + c);
  }
  const pct = (c: number): number => Math.round((c / hits) * 1000) / 10;
  const busy = hits - (areas.get('(idle)') ?? 0);
  return {
    durationMs: Math.round(durationMs),
    samples: hits,
    busyPercent: pct(busy),
    byArea: Object.fromEntries([...areas].sort((a, b) => b[1] - a[1]).map(([k, c]) => [k, pct(c)])),
    topFunctions: [...fns].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, c]) => ({ name, percent: pct(c) })),
  };
}

const [mode, ...rest] = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : def;
};
const session = await Session.open();
try {
  let out: Record<string, unknown>;
  if (mode === 'memory') out = await memory(session);
  else if (mode === 'heap') out = await heap(session, opt('top', 25));
  else if (mode === 'cpu') out = await cpu(session, opt('top', 20));
  else throw new Error(`unknown mode ${mode}; one of memory, heap, cpu`);
  console.log(JSON.stringify({ mode, ...out }));
} finally {
  session.close();
}
process.exit(0);
