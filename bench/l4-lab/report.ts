import type { MemoryPoint } from './idle-memory.js';

/** Ratios, targets (issue 5) and a data-driven account of where time and memory go. */
export type PhaseResult = Record<string, unknown>;
export type VariantResults = Record<string, Record<string, PhaseResult>>;

export interface Target {
  target: string;
  value: number;
  met: boolean | undefined;
}

export interface Summary {
  ratios: Record<string, number>;
  added: Record<string, number>;
  targets: Record<string, Target>;
  lines: string[];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;
/** A percentile the load generator reports as null fell on a failed request: slower than any answer. */
const n = (r: PhaseResult | undefined, k: string): number => (r === undefined || r[k] === undefined ? NaN : r[k] === null ? Infinity : Number(r[k]));
const show = (x: number): string => (x === Infinity ? '∞ (saturated: the percentile falls on unanswered connections)' : String(x));
const judged = (value: number, ok: (x: number) => boolean): boolean | undefined => (Number.isFinite(value) ? ok(value) : undefined);

/** RSS after a forced GC, from the 0-pod point and the first/last points with idle pods. */
function rssSlopes(points: readonly MemoryPoint[]): { max: number; perPodFirst: number; perPod: number } {
  const rss = (p: MemoryPoint): number => p.afterGc.VmRSS;
  const withPods = points.filter((p) => p.idlePods > 0);
  const zero = points.find((p) => p.idlePods === 0);
  const first = withPods[0];
  const last = withPods[withPods.length - 1];
  return {
    max: points.length ? Math.max(...points.map(rss)) : NaN,
    perPodFirst: zero && first ? (rss(first) - rss(zero)) / first.idlePods : NaN,
    // The marginal cost: between the first and the last count with pods (one-time costs of the first
    // enrollment on the node — code paths warmed, the namespace's certificate — are not per pod).
    perPod: first && last && last !== first ? (rss(last) - rss(first)) / (last.idlePods - first.idlePods) : NaN,
  };
}

/**
 * What a proxy adds to a keep-alive percentile: with interleaved rounds, the difference to the baseline
 * of the same round (both saw the same machine), median over rounds; else the difference of the phases.
 */
function addedTo(v: PhaseResult | undefined, base: PhaseResult | undefined, k: string): number {
  const vr = v?.rounds as PhaseResult[] | undefined;
  const br = base?.rounds as PhaseResult[] | undefined;
  if (!vr || !br || vr.length !== br.length) return n(v, k) - n(base, k);
  const diffs = vr.map((r, i) => n(r, k) - n(br[i], k)).sort((a, b) => a - b);
  return diffs[Math.floor(diffs.length / 2)];
}

export function summarize(results: VariantResults, points: readonly MemoryPoint[]): Summary {
  const d = results.none;
  const w = results.weft;
  const h = results.haproxy;
  const added = {
    weftP99Ms: r2(addedTo(w?.keepalive, d?.keepalive, 'p99Ms')),
    haproxyP99Ms: r2(addedTo(h?.keepalive, d?.keepalive, 'p99Ms')),
    weftP50Ms: r2(addedTo(w?.keepalive, d?.keepalive, 'p50Ms')),
    haproxyP50Ms: r2(addedTo(h?.keepalive, d?.keepalive, 'p50Ms')),
    weftNewConnP50Ms: r2(n(w?.newconn, 'p50Ms') - n(d?.newconn, 'p50Ms')),
    haproxyNewConnP50Ms: r2(n(h?.newconn, 'p50Ms') - n(d?.newconn, 'p50Ms')),
  };
  const ratios = {
    keepaliveP50: r2(n(w?.keepalive, 'p50Ms') / n(h?.keepalive, 'p50Ms')),
    keepaliveP99: r2(n(w?.keepalive, 'p99Ms') / n(h?.keepalive, 'p99Ms')),
    // A baseline p99 that is noisier than the proxied one makes "added" ≤ 0: no meaningful ratio then.
    addedP99: added.haproxyP99Ms > 0 ? r2(added.weftP99Ms / added.haproxyP99Ms) : NaN,
    newConnP50: r2(n(w?.newconn, 'p50Ms') / n(h?.newconn, 'p50Ms')),
    newConnP99: r2(n(w?.newconn, 'p99Ms') / n(h?.newconn, 'p99Ms')),
    maxRps: r2(n(w?.maxrps, 'rps') / n(h?.maxrps, 'rps')),
    throughput: r2(n(w?.bulk, 'mibPerS') / n(h?.bulk, 'mibPerS')),
    weftThroughputVsNone: r2(n(w?.bulk, 'mibPerS') / n(d?.bulk, 'mibPerS')),
  };
  const mem = rssSlopes(points);
  // Share of the recorded new connections answered at all (the rest were reset or still waiting 5 s after
  // the phase): the comparison that is left when a path saturates and its p50 is unanswered.
  const answered = (r: PhaseResult | undefined): string => {
    if (!r) return '-';
    const ok = Number(r.count);
    const failed = Number(r.failedRecorded ?? 0);
    return `${Math.round((ok / Math.max(1, ok + failed)) * 100)} %`;
  };
  const targets: Record<string, Target> = {
    addedP99: {
      target: `weft added p99 ≤ 0.8 × haproxy added p99 (1 000 rps keep-alive; added = variant − no capture in the same round, median over rounds)${added.haproxyP99Ms > 0 ? '' : `; not measurable in this run: haproxy's added p99 is ${added.haproxyP99Ms} ms, the baseline's own p99 is as large as the proxied ones (scheduler stalls of the shared machine)`}`,
      value: ratios.addedP99,
      met: judged(ratios.addedP99, (x) => x <= 0.8),
    },
    newConnP50: {
      target:
        n(h?.newconn, 'p50Ms') === Infinity
          ? `weft new-connection p50 ≤ 0.5 × haproxy (haproxy saturated: over half of its connections unanswered, so any answered weft p50 passes; weft p50 ${show(n(w?.newconn, 'p50Ms'))} ms)`
          : 'weft new-connection p50 ≤ 0.5 × haproxy',
      value: ratios.newConnP50,
      met: judged(ratios.newConnP50, (x) => x <= 0.5),
    },
    throughput: { target: 'weft one-stream throughput ≥ 1.0 × haproxy', value: ratios.throughput, met: judged(ratios.throughput, (x) => x >= 1.0) },
    agentRss: { target: 'agent RSS ≤ 80 MiB (largest point, after GC)', value: r2(mem.max), met: judged(mem.max, (x) => x <= 80) },
    rssPerIdlePod: { target: 'agent RSS ≤ 0.2 MiB per extra idle pod (slope between the first and last idle counts, after GC)', value: r2(mem.perPod), met: judged(mem.perPod, (x) => x <= 0.2) },
  };
  const lines = [
    `keep-alive p50 ${ratios.keepaliveP50}×, p99 ${ratios.keepaliveP99}×; added p50 weft ${added.weftP50Ms} ms vs haproxy ${added.haproxyP50Ms} ms; added p99 weft ${added.weftP99Ms} ms vs haproxy ${added.haproxyP99Ms} ms (${ratios.addedP99}×)`,
    `new connections p50 ${ratios.newConnP50}× (weft ${show(n(w?.newconn, 'p50Ms'))} ms, haproxy ${show(n(h?.newconn, 'p50Ms'))} ms, none ${show(n(d?.newconn, 'p50Ms'))} ms), p99 ${ratios.newConnP99}×; answered: weft ${answered(w?.newconn)}, haproxy ${answered(h?.newconn)}, none ${answered(d?.newconn)}`,
    `max rps ${ratios.maxRps}× (weft ${n(w?.maxrps, 'rps')}, haproxy ${n(h?.maxrps, 'rps')}, none ${n(d?.maxrps, 'rps')})`,
    `one stream ${ratios.throughput}× (weft ${n(w?.bulk, 'mibPerS')} MiB/s, haproxy ${n(h?.bulk, 'mibPerS')} MiB/s, none ${n(d?.bulk, 'mibPerS')} MiB/s)`,
  ];
  if (points.length) lines.push(`agent RSS after GC: ${points.map((p) => `${p.idlePods} pods ${p.afterGc.VmRSS} MiB`).join(', ')}; ${r2(mem.perPodFirst)} MiB/pod for the first ${points[1]?.idlePods ?? '-'}, ${r2(mem.perPod)} MiB/pod after`);
  return { ratios, added, targets, lines };
}

interface CpuProfile {
  busyPercent: number;
  byArea: Record<string, number>;
  topFunctions: { name: string; percent: number }[];
}

/** A profile as shares of the agent's busy (non-idle) samples: where its CPU time went. */
function areas(p: CpuProfile | undefined, k = 4): string {
  if (!p) return 'no profile';
  const busy = p.busyPercent || 1;
  const share = (x: number): number => Math.round((x / busy) * 100);
  const top = Object.entries(p.byArea).filter(([a]) => a !== '(idle)').slice(0, k);
  const fns = p.topFunctions.filter((f) => !f.name.startsWith('(')).slice(0, 2);
  return `${p.busyPercent} % of the window busy, of that ${top.map(([a, x]) => `${a} ${share(x)} %`).join(', ')}; top JS/native functions ${fns.map((f) => `${f.name} ${share(f.percent)} %`).join(', ')}`;
}

export interface LoadShape {
  /** Requests sent in the fixed-rate phase (rate × (warm-up + seconds)). */
  keepaliveRequests: number;
  newConnections: number;
  /** The round trip a keep-alive connection must stay under to carry its share of the fixed rate. */
  keepaliveBudgetMs: number;
}

export function analyse(
  results: VariantResults,
  s: Summary,
  shape: LoadShape,
  profile: Record<string, unknown> | undefined,
  memory: { pristineRssMiB?: number; points: MemoryPoint[]; perPodObjects?: { name: string; perPod: number }[] } | undefined,
  agentsAfterTraffic?: Record<string, Record<string, number>>,
): string[] {
  const out: string[] = [];
  const cpu = (v: string, phase: string): number => n(results[v]?.[phase], 'proxyCpuMs');
  const mib = (v: string): number => n(results[v]?.bulk, 'bytes') / 1048576;
  const pick = (phase: string, agent: string): CpuProfile | undefined => (profile?.[phase] as Record<string, unknown> | undefined)?.[agent] as CpuProfile | undefined;
  if (results.weft && results.haproxy) {
    const us = (v: string, phase: string, per: number): number => r2((cpu(v, phase) * 1000) / per);
    out.push(
      `CPU of both proxies (from /proc): per keep-alive request weft ${us('weft', 'keepalive', shape.keepaliveRequests)} µs vs haproxy ${us('haproxy', 'keepalive', shape.keepaliveRequests)} µs; ` +
        `per new connection weft ${us('weft', 'newconn', shape.newConnections)} µs vs haproxy ${us('haproxy', 'newconn', shape.newConnections)} µs (every haproxy connection is a full TLS 1.3 handshake; weft reuses one HBONE session); ` +
        `per MiB streamed weft ${r2(cpu('weft', 'bulk') / mib('weft'))} ms vs haproxy ${r2(cpu('haproxy', 'bulk') / mib('haproxy'))} ms`,
    );
    const ka = pick('keepalive', 'agent-n1');
    if (s.targets.addedP99.met === false) {
      out.push(
        `added p99 missed (weft ${s.added.weftP99Ms} ms vs haproxy ${s.added.haproxyP99Ms} ms): ` +
          (ka && ka.busyPercent < 50
            ? `the agents were mostly idle (profiled keep-alive run, which answered ${n((profile?.keepalive as { load?: PhaseResult } | undefined)?.load, 'rps')} requests/s of the fixed rate: n1 ${areas(ka, 3)}; n2 ${areas(pick('keepalive', 'agent-n2'), 3)}), so the time goes into the round trip itself: four extra event-loop wake-ups per request (pod → agent n1 → agent n2 → pod and back), each paying Node's per-event path plus the scheduler's wake-up delay on a loaded machine; once a connection's round trip exceeds ${r2(shape.keepaliveBudgetMs)} ms its share of the fixed rate queues behind it`
            : `agents busy (profiled keep-alive: n1 ${areas(ka)})`),
      );
    }
    if (s.targets.newConnP50.met === false)
      out.push(`new-connection p50 missed: n1 ${areas(pick('newconn', 'agent-n1'))}; n2 ${areas(pick('newconn', 'agent-n2'))}`);
    if (s.targets.throughput.met === false)
      out.push(
        `throughput missed: weft spends ${r2(cpu('weft', 'bulk') / mib('weft') / (cpu('haproxy', 'bulk') / mib('haproxy')))}× haproxy's CPU per MiB. ` +
          `Profiles (V8 puts native work — TLSWrap/OpenSSL, nghttp2, syscalls — under "(program)" or the binding that entered it, e.g. writeBuffer = a socket write): n1 (pod → HBONE) ${areas(pick('bulk', 'agent-n1'))}; n2 (HBONE → pod) ${areas(pick('bulk', 'agent-n2'))}`,
      );
  }
  if (agentsAfterTraffic)
    out.push(
      `after the traffic phases (not part of the idle targets): ${Object.entries(agentsAfterTraffic).map(([a, m]) => `${a} RSS ${m.VmRSS} MiB (peak ${m.VmHWM} MiB, anonymous ${m.RssAnon} MiB)`).join(', ')}`,
    );
  if (memory?.points.length) {
    const p = memory.points;
    const first = p.find((x) => x.idlePods > 0);
    const last = p[p.length - 1];
    if (first && last && last !== first) {
      const d = last.idlePods - first.idlePods;
      const per = (f: (x: MemoryPoint) => number): number => r2(((f(last) - f(first)) * 1024) / d);
      out.push(
        `per idle pod (${first.idlePods} → ${last.idlePods}, after GC): RSS ${per((x) => x.afterGc.VmRSS)} KiB (anonymous ${per((x) => x.afterGc.RssAnon)} KiB), JS heap used ${per((x) => x.memoryUsageMiB.heapUsed)} KiB, ${r2((last.fds - first.fds) / d)} fds (the pod's 15001/15006/15008 listeners)`,
      );
    }
    const z = p[0];
    out.push(
      `0 pods: ${z.afterGc.VmRSS} MiB RSS after GC (without a forced GC: ${memory.pristineRssMiB ?? '?'} MiB 3 s after start, ${p.map((x) => `${x.vmRssMiB} MiB at ${x.idlePods} pods`).join(', ')}) = ${z.afterGc.RssFile} MiB file-backed (the node binary and libnode, shared with every Node process on the node) + ${z.afterGc.RssAnon} MiB anonymous, of which JS heap ${z.memoryUsageMiB.heapUsed} MiB used of ${z.memoryUsageMiB.heapTotal} MiB`,
    );
    const enrolled = p.filter((x) => x.enrollSeconds !== undefined);
    if (enrolled.length)
      out.push(
        `enrolling idle pods (the agent handles one ADD at a time; weft-cni gives up after 5 s and the runtime retries): ${enrolled.map((x) => `${x.idlePods} pods reached in ${x.enrollSeconds} s (${x.enrollmentsLost ?? 0} enrollments lost to ADD timeouts on the way)`).join(', ')}`,
      );
    if (memory.perPodObjects?.length)
      out.push(`heap objects added per idle pod (snapshots at 0 and ${last.idlePods} pods): ${memory.perPodObjects.slice(0, 12).map((o) => `${o.name} ${o.perPod}`).join(', ')}`);
  }
  return out;
}
