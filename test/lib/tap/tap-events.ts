import type { ConnectionTapEvent, RequestTapEvent } from '../../../lib/tap/index.js';

// Tap events for the hub's tests: a request at a waypoint and a connection at an agent, with the fields
// the filters read.

export function requestEvent(o: { path?: string; method?: string; srcNs?: string; srcWl?: string; dstNs?: string; dstWl?: string } = {}): RequestTapEvent {
  return {
    type: 'request',
    time: '2026-12-07T10:00:00.000Z',
    method: o.method ?? 'GET',
    authority: 'web.demo',
    path: o.path ?? '/',
    status: 200,
    outcome: '-',
    route: 'demo/web',
    backend: 'demo/web:80',
    latencyMs: 1.5,
    source: { workload: o.srcWl ?? 'client', namespace: o.srcNs ?? 'demo', identity: 'spiffe://cluster.local/ns/demo/sa/client' },
    destination: { workload: o.dstWl ?? 'web', namespace: o.dstNs ?? 'demo', identity: 'spiffe://cluster.local/ns/demo/sa/web', service: 'web.demo.svc.cluster.local' },
    verdict: { action: 'allow' },
  };
}

export function connectionEvent(o: { srcNs?: string; dstNs?: string } = {}): ConnectionTapEvent {
  return {
    type: 'connection',
    event: 'open',
    time: '2026-12-07T10:00:00.000Z',
    id: 1,
    reporter: 'destination',
    direction: 'inbound',
    via: 'hbone',
    source: { workload: 'client', namespace: o.srcNs ?? 'demo', identity: 'spiffe://cluster.local/ns/demo/sa/client' },
    destination: { workload: 'db', namespace: o.dstNs ?? 'demo', identity: 'spiffe://cluster.local/ns/demo/sa/db', address: '10.244.1.5', port: 5432, service: 'db.demo.svc.cluster.local' },
  };
}

/** A sink that keeps the lines, with a settable unsent backlog (a slow reader). */
export class MemorySink {
  readonly lines: string[] = [];
  writableLength = 0;
  write(line: string): boolean {
    this.lines.push(line);
    return true;
  }
  events(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
