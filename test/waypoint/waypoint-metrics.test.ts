// Pins the golden metrics: weft_requests_total carries response_code, grpc_status, source_workload (from
// the tunnel's source IP), source_principal (the tunnel peer), destination_service, route and backend;
// weft_request_duration_milliseconds observes each request; retries are counted; the access log has one
// line per request naming the route, backend, status and client principal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';
import { WorkloadSchema } from '../../lib/model/index.js';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/telemetry/log.js';

describe('waypoint metrics', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  let n = 0;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    web = await httpBackend((_q, res) => res.writeHead(n++ === 0 ? 503 : 200).end('ok'));
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => {
      for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    lab = await startLab({ accessLog: createLogger({ name: 'weft-waypoint.access', level: 'info', destination: sink }) });
    const s = service('web', '10.96.2.1', 80, [web]);
    const client = WorkloadSchema.parse({ uid: 'client-uid', name: 'client-abc', namespace: 'demo', serviceAccount: 'client', ips: ['10.244.1.7'] });
    lab.setState({
      services: [s.service],
      workloads: [...s.workloads, client],
      routes: [route({ name: 'web-route', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ retry: { codes: [503], attempts: 2, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })],
    });
    port = await lab.listen('10.96.2.1:80', CLIENT_ID, '10.244.1.7');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
  });

  it('labels requests and counts retries', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await request(`http://127.0.0.1:${port}/`);
      expect(r.statusCode).toBe(200);
      await r.body.text();
    }
    const text = await lab.registry.metrics();
    expect(text).toContain(
      `weft_requests_total{response_code="200",grpc_status="",source_workload="demo/client-abc",source_principal="${CLIENT_ID}",destination_service="demo/web",route="demo/web-route",backend="demo/web:80"} 3`,
    );
    expect(text).toMatch(/weft_request_duration_milliseconds_count\{response_code="200"[^}]*\} 3/);
    expect(text).toContain('weft_retries_total{route="demo/web-route",destination_service="demo/web"} 1');
    await expect.poll(() => lines.length).toBe(3);
    expect(lines[0]).toMatchObject({ name: 'weft-waypoint.access', method: 'GET', path: '/', status: 200, route: 'demo/web-route', backend: 'demo/web:80', principal: CLIENT_ID });
  });
});
