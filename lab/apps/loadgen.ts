#!/usr/bin/env node
// weft/loadgen: an open-loop HTTP/1.1 load generator (fixed request rate, so latency is measured
// without coordinated omission hiding a stall) that prints JSON stats: counts per status, errors by
// code, latency percentiles. Usage: loadgen --target http://backend:8080/ --rate 200 --duration 10
// [--connections 10] [--new-connections] (one TCP connection per request) [--timeline] (adds every
// request as [startMs, endMs, status or error code] and every connection open/close as [ms, +1|-1],
// times in epoch milliseconds, so a test can line outcomes up with events such as an agent restart).
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '5' },
    'connect-timeout': { type: 'string', default: '10' },
    'new-connections': { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || !values.target) {
  console.log('usage: loadgen --target <url> [--rate rps=100] [--duration s=10] [--connections 10] [--timeout s=5] [--connect-timeout s=10] [--new-connections] [--timeline]');
  process.exit(values.help ? 0 : 2);
}
const target = values.target;
const rate = Math.max(1, Math.min(100_000, Number(values.rate)));
const durationMs = Math.max(0.1, Math.min(3600, Number(values.duration))) * 1000;
const timeoutMs = Number(values.timeout) * 1000;
const connect = { timeout: Number(values['connect-timeout']) * 1000 };
const agent = new Agent({ connections: Number(values.connections), pipelining: 1, keepAliveTimeout: 30_000, connect });

const latencies: number[] = [];
const statuses: Record<string, number> = {};
const errors: Record<string, number> = {};
let inflight = 0;
let sent = 0;
const timeline = values.timeline;
const requests: [number, number, number | string][] = [];
const connections: [number, 1 | -1][] = [];
const now = (): number => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;
const watchConnections = (a: Agent): void => {
  if (!timeline) return;
  a.on('connect', () => connections.push([now(), 1]));
  a.on('disconnect', () => connections.push([now(), -1]));
};
watchConnections(agent);

async function one(): Promise<void> {
  const t0 = performance.now();
  inflight++;
  const own = values['new-connections'] ? new Agent({ connections: 1, pipelining: 0, connect }) : undefined;
  if (own) watchConnections(own);
  const startedAt = timeline ? now() : 0;
  try {
    const res = await request(target, {
      dispatcher: own ?? agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      reset: values['new-connections'],
    });
    await res.body.dump();
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    latencies.push(performance.now() - t0);
    if (timeline) requests.push([startedAt, now(), res.statusCode]);
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    errors[code] = (errors[code] ?? 0) + 1;
    if (timeline) requests.push([startedAt, now(), code]);
  } finally {
    inflight--;
    if (own) void own.close();
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(3));
}

const start = performance.now();
const pending: Promise<void>[] = [];
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const elapsed = performance.now() - start;
    // Open loop: every request due by now is sent, also the ones a stalled event loop made late.
    const due = Math.floor((Math.min(elapsed, durationMs) / 1000) * rate);
    while (sent < due) {
      sent++;
      pending.push(one());
    }
    if (elapsed >= durationMs) return resolve();
    setTimeout(tick, 1);
  };
  tick();
});
await Promise.all(pending);
await agent.close();
const sorted = latencies.sort((a, b) => a - b);
const elapsedS = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    target,
    rate,
    durationS: Number(elapsedS.toFixed(3)),
    sent,
    completed: latencies.length,
    achievedRps: Number((latencies.length / elapsedS).toFixed(1)),
    statuses,
    errors,
    latencyMs: { p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: pct(sorted, 100) },
    inflightAtEnd: inflight,
    ...(timeline ? { requests, connections } : {}),
  }),
);
