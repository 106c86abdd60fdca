// Pins what `weft stat` and `weft edges` make of Prometheus's answers, on answers recorded from the lab
// Prometheus of test/e2e/cli-stat.test.ts (fixtures/prometheus-traffic-answers.json, with the queries that
// produced them): rows per workload and route with success rate, rates, percentiles and mTLS; `-` where
// there is no data; the edges with both identities, a request refused at the waypoint counted against the
// Service it asked for, the policy verdicts filtered by namespace; and Prometheus's refusals (an error
// body, a plain-text 404 of a wrong base URL, a matrix) as ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED naming
// the URL and the query. The failure it guards: a table whose numbers are not the answers' (a ratio of
// the wrong series, NaN printed as a number, a denial lost because it reached no workload).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVectorAnswer, type VectorSample } from '../../cli/prometheus/prometheus-client.js';
import { edgeQueries, edgesOf, type EdgeAnswers } from '../../cli/traffic/edge-queries.js';
import { edgesAnswer } from '../../cli/traffic/edge-view.js';
import { parseStatTarget, statQueries, statRows, type StatAnswers } from '../../cli/traffic/stat-queries.js';
import { statAnswer, type StatReport } from '../../cli/traffic/stat-view.js';
import { renderAnswer } from '../../cli/traffic/traffic-options.js';
import { isWeftError } from '../../lib/errors/index.js';

interface Recorded {
  query: string;
  status: number;
  body: string;
}
interface Section {
  window: string;
  answers: Record<string, Recorded>;
}
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'prometheus-traffic-answers.json'), 'utf8')) as { stat: Section; statRoute: Section; edges: Section };

function samples(section: Section, queries: object): Record<string, VectorSample[]> {
  // The recording must be of the queries the command sends today: re-record it when they change.
  expect(Object.fromEntries(Object.entries(section.answers).map(([k, a]) => [k, a.query]))).toEqual(Object.fromEntries(Object.entries(queries as Record<string, unknown>).filter(([, q]) => typeof q === 'string')));
  return Object.fromEntries(Object.entries(section.answers).map(([k, a]) => [k, parseVectorAnswer('http://127.0.0.1:9090', a.query, a.status, a.body)]));
}

const report = (kind: StatReport['kind'], namespace: string | null, rows: StatReport['rows']): StatReport => ({ prometheus: 'http://127.0.0.1:9090', time: '2026-12-07T16:48:06.422Z', window: '5m', kind, namespace, name: null, rows });

describe('weft stat from recorded answers', () => {
  it('one row per workload: success, rps, percentiles, mTLS over connections and requests; - where no data', () => {
    const target = parseStatTarget('deployment', undefined);
    const a = samples(fixture.stat, statQueries(target, '5m')) as StatAnswers;
    const rows = statRows(target, a);
    const web = rows.find((r) => r.name === 'web');
    expect(web?.successRate).toBeCloseTo(0.3377357333333333 / 0.40959439999999997, 12);
    expect(web?.requestsPerSecond).toBe(0.40959439999999997);
    expect(web?.latencyMs).toEqual({ p50: 0.85625, p95: 2.5571428571428534, p99: 4.511428571428569 });
    expect(web?.connectionsPerSecond).toBe(0.0035245);
    expect(web?.mtlsRate).toBe(1);
    expect(statAnswer(report('workload', null, rows)).table).toEqual([
      'NAMESPACE   WORKLOAD   SUCCESS   RPS     P50      P95      P99      MTLS      TCP/S',
      'st          web        82.46%    0.41    0.86ms   2.56ms   4.51ms   100.00%   0.0035',
      'unknown     unknown    100.00%   0.011   0.25ms   0.47ms   0.50ms   100.00%   -',
    ]);
  });

  it('routes: L7 alone, no TCP column', () => {
    const target = parseStatTarget('route', 'st');
    const rows = statRows(target, samples(fixture.statRoute, statQueries(target, '5m')));
    expect(statAnswer(report('route', 'st', rows)).table).toEqual([
      'ROUTE    SUCCESS   RPS    P50      P95      P99      MTLS',
      'st/web   82.46%    0.41   0.86ms   2.56ms   4.51ms   100.00%',
    ]);
  });

  it('-o json carries the question and the numbers (null where the table shows -); --watch prints it on one line', () => {
    const target = parseStatTarget('deployment', undefined);
    const answer = statAnswer(report('workload', null, statRows(target, samples(fixture.stat, statQueries(target, '5m')))));
    const data = JSON.parse(renderAnswer(answer, 'json', false).join('\n')) as StatReport;
    expect(data).toMatchObject({ prometheus: 'http://127.0.0.1:9090', window: '5m', kind: 'workload', namespace: null });
    expect(data.rows.find((r) => r.name === 'unknown')?.connectionsPerSecond).toBeNull();
    const compact = renderAnswer(answer, 'json', true);
    expect(compact).toHaveLength(1);
    expect(JSON.parse(compact[0])).toEqual(data);
  });

  it('a row with requests but none in the window: success and percentiles are -, not 0 or NaN', () => {
    const target = parseStatTarget('deployment', 'st');
    const zero: VectorSample[] = [{ metric: { destination_workload: 'web', destination_workload_namespace: 'st' }, value: 0 }];
    const nan: VectorSample[] = [{ metric: { destination_workload: 'web', destination_workload_namespace: 'st' }, value: NaN }];
    const rows = statRows(target, { requests: zero, successes: zero, p50: nan, p95: nan, p99: nan, mtlsRequests: zero, connections: zero, mtlsConnections: zero });
    expect(statAnswer(report('workload', 'st', rows)).table[1]).toBe('st          web        -         0     -     -     -     -      0');
  });
});

describe('weft edges from recorded answers', () => {
  const a = (): EdgeAnswers => samples(fixture.edges, edgeQueries('10m')) as unknown as EdgeAnswers;

  it('both identities, mTLS, counts; a refused request against the Service it asked for; verdicts per policy', () => {
    const { edges, policies } = edgesOf(a(), undefined);
    expect(edges.map((e) => [`${e.source.namespace}/${e.source.workload}`, e.destination.service ?? e.destination.workload, e.connections, e.requests, e.denied.requests, e.mtlsRate])).toEqual([
      ['st/client', 'web', 0, 3, 3, 1],
      ['st/client', 'web', 0, 123, 0, 1],
      ['st/waypoint', 'web', 1, 0, 0, 1],
    ]);
    expect(edges[1].destination).toEqual({ namespace: 'st', workload: 'web', principal: 'spiffe://cluster.local/ns/st/sa/web' });
    expect(edges[0].destination).toEqual({ namespace: 'st', workload: 'unknown', principal: 'unknown', service: 'web' });
    expect(policies).toEqual([
      { policy: 'none', rule: 'none', denied: 0, wouldDeny: 0, wouldAllow: 119 },
      { policy: 'st/dry-deny', rule: '0', denied: 0, wouldDeny: 4, wouldAllow: 0 },
      { policy: 'st/no-admin-posts', rule: '0', denied: 3, wouldDeny: 3, wouldAllow: 0 },
    ]);
  });

  it('the table; -n keeps the edges touching the namespace and its own policies', () => {
    const { edges, policies } = edgesOf(a(), 'st');
    expect(edgesAnswer({ prometheus: 'http://127.0.0.1:9090', time: 'T', window: '10m', namespace: 'st', edges, policies }).table).toEqual([
      'SOURCE        DESTINATION   SOURCE IDENTITY                            DESTINATION IDENTITY                  MTLS   CONNECTIONS   REQUESTS   DENIED',
      'st/client     st/svc/web    spiffe://cluster.local/ns/st/sa/client     unknown                               yes    0             3          3',
      'st/client     st/web        spiffe://cluster.local/ns/st/sa/client     spiffe://cluster.local/ns/st/sa/web   yes    0             123        0',
      'st/waypoint   st/web        spiffe://cluster.local/ns/st/sa/waypoint   spiffe://cluster.local/ns/st/sa/web   yes    1             0          0',
      '',
      'POLICY              RULE   DENIED   WOULD DENY (DRY-RUN)   WOULD ALLOW (DRY-RUN)',
      'st/dry-deny         0      0        4                      0',
      'st/no-admin-posts   0      3        3                      0',
    ]);
    expect(edgesOf(a(), 'other')).toEqual({ edges: [], policies: [] });
  });

  it('no traffic says so, naming the window and the Prometheus', () => {
    const none = edgesOf({ connections: [], plaintextOut: [], deniedConnections: [], requests: [], deniedRequests: [], policyDenials: [], dryRun: [] }, 'demo');
    expect(edgesAnswer({ prometheus: 'http://127.0.0.1:9090', time: 'T', window: '1m', namespace: 'demo', ...none }).table).toEqual(['no traffic in namespace demo in the last 1m (Prometheus http://127.0.0.1:9090)']);
  });
});

describe("Prometheus's refusals, recorded from Prometheus 2.42", () => {
  const refusal = (status: number, body: string): unknown => {
    try {
      parseVectorAnswer('http://127.0.0.1:9090', 'up', status, body);
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it.each([
    [400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:8: parse error: duration must be greater than 0"}', 'HTTP 400 bad_data: invalid parameter "query": 1:8: parse error: duration must be greater than 0'],
    [404, '404 page not found\n', 'HTTP 404 with a body that is not Prometheus\'s JSON: "404 page not found"'],
    [200, '{"status":"success","data":{"resultType":"matrix","result":[]}}', 'HTTP 200: expected a vector, got "matrix"'],
  ])('HTTP %i: ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED naming the URL, the query and why', (status, body, why) => {
    const err = refusal(status, body);
    expect(isWeftError(err) && err.code).toBe('ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED');
    expect((err as Error).message).toBe(`Prometheus at http://127.0.0.1:9090 refused the query up: ${why}`);
  });

  it('reads NaN and the infinities Prometheus writes as strings', () => {
    const body = '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"NaN"]},{"metric":{"a":"2"},"value":[1,"+Inf"]},{"metric":{"a":"3"},"value":[1,"-Inf"]},{"metric":{"a":"4"},"value":[1,"1.5e-3"]}]}}';
    expect(parseVectorAnswer('u', 'q', 200, body).map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, 0.0015]);
  });
});
