// Pins the PromQL `weft stat` and `weft edges` send: the metric and the reporter each column is read from
// (requests at waypoints, connections at the destination's agent), the labels a kind groups by, the
// filters -n, -A and /NAME become, the success rule (not 5xx, gRPC OK), and values quoted (never spliced).
// The failure it guards: a column computed from the wrong reporter (counting a connection twice) or a
// name from the command line changing the query's meaning.
import { describe, expect, it } from 'vitest';
import { parseStatTarget, statQueries } from '../../cli/traffic/stat-queries.js';
import { edgeQueries } from '../../cli/traffic/edge-queries.js';
import { quote, selector, windowArg } from '../../cli/prometheus/promql.js';
import { isWeftError } from '../../lib/errors/index.js';

describe('weft stat queries', () => {
  it('deployment/web in -n demo: requests, successes and percentiles at waypoints, connections at the destination', () => {
    const q = statQueries(parseStatTarget('deployment/web', 'demo'), '1m');
    const sel = 'reporter="waypoint",destination_workload_namespace="demo",destination_workload="web"';
    const by = 'destination_workload_namespace, destination_workload';
    expect(q).toEqual({
      requests: `sum by (${by}) (rate(weft_requests_total{${sel}}[1m]))`,
      successes: `sum by (${by}) (rate(weft_requests_total{${sel},response_code!~"5..",grpc_response_status=~"|0"}[1m]))`,
      p50: `histogram_quantile(0.5, sum by (${by}, le) (rate(weft_request_duration_milliseconds_bucket{${sel}}[1m])))`,
      p95: `histogram_quantile(0.95, sum by (${by}, le) (rate(weft_request_duration_milliseconds_bucket{${sel}}[1m])))`,
      p99: `histogram_quantile(0.99, sum by (${by}, le) (rate(weft_request_duration_milliseconds_bucket{${sel}}[1m])))`,
      mtlsRequests: `sum by (${by}) (rate(weft_requests_total{${sel},connection_security_policy="mutual_tls"}[1m]))`,
      connections: `sum by (${by}) (rate(weft_tcp_connections_opened_total{reporter="destination",destination_workload_namespace="demo",destination_workload="web"}[1m]))`,
      mtlsConnections: `sum by (${by}) (rate(weft_tcp_connections_opened_total{reporter="destination",destination_workload_namespace="demo",destination_workload="web",connection_security_policy="mutual_tls"}[1m]))`,
    });
  });

  it('kinds group by their labels; -A drops the namespace filter', () => {
    expect(statQueries(parseStatTarget('ns', 'demo'), '5m').requests).toBe('sum by (destination_workload_namespace) (rate(weft_requests_total{reporter="waypoint"}[5m]))');
    expect(statQueries(parseStatTarget('namespace/demo', undefined), '5m').requests).toBe(
      'sum by (destination_workload_namespace) (rate(weft_requests_total{reporter="waypoint",destination_workload_namespace="demo"}[5m]))',
    );
    expect(statQueries(parseStatTarget('deploy', undefined), '1m').requests).toBe('sum by (destination_workload_namespace, destination_workload) (rate(weft_requests_total{reporter="waypoint"}[1m]))');
    expect(statQueries(parseStatTarget('sts/db', 'data'), '1m').requests).toContain('{reporter="waypoint",destination_workload_namespace="data",destination_workload="db"}');
  });

  it('routes are namespace/name and L7 alone: no connections, mTLS is the share of requests', () => {
    const one = statQueries(parseStatTarget('route/web', 'demo'), '1m');
    expect(one.requests).toBe('sum by (route) (rate(weft_requests_total{reporter="waypoint",route="demo/web"}[1m]))');
    expect(one.connections).toBeUndefined();
    expect(one.mtlsConnections).toBeUndefined();
    expect(one.mtlsRequests).toBe('sum by (route) (rate(weft_requests_total{reporter="waypoint",route="demo/web",connection_security_policy="mutual_tls"}[1m]))');
    expect(statQueries(parseStatTarget('route', 'demo'), '1m').requests).toContain('route=~"demo/.+"');
    expect(statQueries(parseStatTarget('route/web', undefined), '1m').requests).toContain('route=~"[^/]+/web"');
  });

  it('an authority is the Service FQDN, from a short name, name.namespace or the FQDN, in any cluster domain', () => {
    const matcher = (resource: string, ns: string | undefined): string => /destination_service=~"([^"]*)"/.exec(statQueries(parseStatTarget(resource, ns), '1m').requests)?.[1] ?? '';
    expect(matcher('authority/web', 'demo')).toBe('web\\\\.demo\\\\.svc\\\\..+');
    expect(matcher('authority/web', undefined)).toBe('web\\\\.[^.]+\\\\.svc\\\\..+');
    expect(matcher('authority/web.demo', 'other')).toBe('web\\\\.demo\\\\.svc\\\\..+');
    expect(matcher('au/web.demo.svc', 'demo')).toBe('web\\\\.demo\\\\.svc\\\\..+');
    expect(matcher('authority/web.demo.svc.example.org', 'demo')).toBe('web\\\\.demo\\\\.svc\\\\.example\\\\.org');
    const q = statQueries(parseStatTarget('authority', 'demo'), '1m');
    expect(q.requests).toBe('sum by (destination_service_namespace, destination_service) (rate(weft_requests_total{reporter="waypoint",destination_service_namespace="demo"}[1m]))');
    expect(q.mtlsConnections).toContain('weft_tcp_connections_opened_total{reporter="destination",destination_service_namespace="demo",connection_security_policy="mutual_tls"}');
  });

  it('refuses unknown kinds and names that are not names, as usage errors', () => {
    for (const bad of ['pods', 'pod/x', 'deployment/Web', 'deployment/a"b', 'route/a/b', 'authority/web..x"', 'deployment/']) {
      let err: unknown;
      try {
        parseStatTarget(bad, 'demo');
      } catch (e) {
        err = e;
      }
      expect(isWeftError(err) && err.code, bad).toBe('ERR_WEFT_CLI_USAGE');
    }
  });
});

describe('weft edges queries', () => {
  it('connections at the destination (and plaintext out of the mesh at the source), requests at waypoints, verdicts per policy', () => {
    const q = edgeQueries('1m');
    const ends = 'source_workload, source_workload_namespace, source_principal, destination_workload, destination_workload_namespace, destination_principal';
    expect(q.connections).toBe(`sum by (${ends}, connection_security_policy) (increase(weft_tcp_connections_opened_total{reporter="destination"}[1m]))`);
    expect(q.plaintextOut).toBe(`sum by (${ends}, connection_security_policy) (increase(weft_tcp_connections_opened_total{reporter="source",connection_security_policy="none"}[1m]))`);
    expect(q.deniedConnections).toBe(`sum by (${ends}) (increase(weft_tcp_connections_closed_total{reporter="destination",response_flags="DENY"}[1m]))`);
    expect(q.requests).toBe(`sum by (${ends}, destination_service_namespace, destination_service_name, connection_security_policy) (increase(weft_requests_total{reporter="waypoint"}[1m]))`);
    expect(q.deniedRequests).toBe(`sum by (${ends}, destination_service_namespace, destination_service_name) (increase(weft_requests_total{reporter="waypoint",response_flags="DENY"}[1m]))`);
    expect(q.policyDenials).toBe('sum by (policy, rule) (increase(weft_waypoint_denied_total{}[1m]))');
    expect(q.dryRun).toBe('sum by (policy, rule, verdict) (increase(weft_authz_dry_run_total{}[1m]))');
  });
});

describe('PromQL pieces', () => {
  it('quotes label values so that no input leaves its string', () => {
    expect(quote('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(selector('m', [{ label: 'x', op: '=', value: '"} or vector(1) #' }])).toBe('m{x="\\"} or vector(1) #"}');
  });

  it('--window takes Prometheus durations and refuses the rest as usage errors', () => {
    for (const ok of ['30s', '1m', '1h30m', '500ms', '2d']) expect(windowArg(ok)).toBe(ok);
    for (const bad of ['1', '1 m', 'm', '1m]', '-1m', '']) expect(() => windowArg(bad), bad).toThrow(/not a Prometheus duration/);
  });
});
