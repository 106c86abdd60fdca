// Pins the waypoint's golden metrics with Istio's standard labels: weft_requests_total carries
// reporter="waypoint", source_workload / source_workload_namespace (the client's owning workload, never its
// pod; resolved from the tunnel's source IP, or from its SPIFFE ID alone when the IP is not known — it used
// to read "unknown" for a known mesh pod), source_principal, destination_service (FQDN) with its name and
// namespace, destination_workload / _namespace / _principal (the endpoint that answered), request_protocol,
// response_code, grpc_response_status, response_flags ("-" or the local answer's flag),
// connection_security_policy="mutual_tls", route and backend; weft_request_duration_milliseconds observes
// each request into buckets fit for p50/p95/p99; retries are counted; the access log has one line per
// request naming the route, backend, status and client principal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';
import { WorkloadSchema } from '../../lib/model/index.js';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/telemetry/log.js';

type Series = { labels: Record<string, string | number>; value: number; metricName?: string };

describe('waypoint metrics', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  let byIdOnly: number;
  let empty: number;
  let n = 0;
  const lines: Record<string, unknown>[] = [];

  const series = async (name: string): Promise<Series[]> => (await lab.registry.getSingleMetric(name)!.get()).values as Series[];

  beforeAll(async () => {
    web = await httpBackend((_q, res) => res.writeHead(n++ === 0 ? 503 : 200).end('ok'));
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => {
      for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    lab = await startLab({ accessLog: createLogger({ name: 'weft-waypoint.access', level: 'info', destination: sink }) });
    const s = service('web', '10.96.2.1', 80, [web]);
    const none = service('none', '10.96.2.2', 80, []);
    const backends = s.workloads.map((w) => ({ ...w, workloadName: 'web' }));
    const client = (name: string, ip: string) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'demo', serviceAccount: 'client', ips: [ip], workloadName: 'client', captured: true });
    lab.setState({
      services: [s.service, none.service],
      workloads: [...backends, client('client-7d9f-abc', '10.244.1.7'), client('client-7d9f-xyz', '10.244.2.9')],
      routes: [
        route({
          name: 'web-route',
          parents: [{ namespace: 'demo', name: 'web' }],
          rules: [{ retry: { codes: [503], attempts: 2, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }],
        }),
      ],
    });
    port = await lab.listen('10.96.2.1:80', CLIENT_ID, '10.244.1.7');
    // A tunnel whose forwarded IP is not a known pod: the identity alone names the workload.
    byIdOnly = await lab.listen('10.96.2.1:80', CLIENT_ID, '10.9.9.9');
    empty = await lab.listen('10.96.2.2:80', CLIENT_ID, '10.244.1.7');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
  });

  const common = {
    reporter: 'waypoint',
    source_workload: 'client',
    source_workload_namespace: 'demo',
    source_principal: CLIENT_ID,
    destination_service: 'web.demo.svc.cluster.local',
    destination_service_name: 'web',
    destination_service_namespace: 'demo',
    destination_workload: 'web',
    destination_workload_namespace: 'demo',
    destination_principal: 'spiffe://cluster.local/ns/demo/sa/web',
    connection_security_policy: 'mutual_tls',
    request_protocol: 'http',
    route: 'demo/web-route',
    backend: 'demo/web:80',
  };

  it('labels requests with Istio semantics and counts retries', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await request(`http://127.0.0.1:${port}/`);
      expect(r.statusCode).toBe(200);
      await r.body.text();
    }
    const total = await series('weft_requests_total');
    expect(total).toEqual([{ labels: { ...common, response_code: '200', grpc_response_status: '', response_flags: '-' }, value: 3 }]);
    const duration = await series('weft_request_duration_milliseconds');
    const count = duration.find((v) => v.metricName === 'weft_request_duration_milliseconds_count');
    expect(count).toMatchObject({ labels: { ...common, response_code: '200' }, value: 3 });
    const les = duration.filter((v) => v.metricName === 'weft_request_duration_milliseconds_bucket').map((v) => v.labels.le);
    expect(les).toEqual([0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, '+Inf']);
    expect(await lab.registry.metrics()).toContain('weft_retries_total{route="demo/web-route",destination_service="web.demo.svc.cluster.local"} 1');
    await expect.poll(() => lines.length).toBe(3);
    expect(lines[0]).toMatchObject({ name: 'weft-waypoint.access', method: 'GET', path: '/', status: 200, route: 'demo/web-route', backend: 'demo/web:80', principal: CLIENT_ID });
  });

  it('names the client workload from its SPIFFE ID when its IP is not a known pod, in the same series', async () => {
    const r = await request(`http://127.0.0.1:${byIdOnly}/`);
    expect(r.statusCode).toBe(200);
    await r.body.text();
    const total = await series('weft_requests_total');
    expect(total).toEqual([{ labels: { ...common, response_code: '200', grpc_response_status: '', response_flags: '-' }, value: 4 }]);
  });

  it('a local answer carries its flag and no destination workload', async () => {
    const r = await request(`http://127.0.0.1:${empty}/`);
    expect(r.statusCode).toBe(503);
    await r.body.text();
    const total = await series('weft_requests_total');
    expect(total.find((v) => v.labels.response_code === '503')).toEqual({
      labels: {
        ...common,
        destination_service: 'none.demo.svc.cluster.local',
        destination_service_name: 'none',
        destination_workload: 'unknown',
        destination_workload_namespace: 'unknown',
        destination_principal: 'unknown',
        route: 'passthrough',
        backend: 'demo/none:80',
        response_code: '503',
        grpc_response_status: '',
        response_flags: 'NO_ENDPOINT',
      },
      value: 1,
    });
  });
});
