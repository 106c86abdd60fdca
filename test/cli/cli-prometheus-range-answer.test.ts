// PrometheusClient.queryRange's parser (the dashboard's sparklines): a `/api/v1/query_range` answer as
// Prometheus writes it (values as strings, `NaN` and `+Inf` included) becomes series of [time, number]
// points; a refusal and an answer of the wrong type are ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED naming the query.
import { describe, expect, it } from 'vitest';
import { parseMatrixAnswer, parseVectorAnswer } from '../../cli/prometheus/prometheus-client.js';

const URL = 'http://127.0.0.1:9090';
const Q = 'sum by (destination_workload) (rate(weft_requests_total[1m]))';

describe('parseMatrixAnswer', () => {
  it('reads the series and their points', () => {
    const text = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { metric: { destination_workload: 'web' }, values: [[1765123200, '10.5'], [1765123210, 'NaN'], [1765123220, '+Inf']] },
          { metric: {}, values: [] },
        ],
      },
    });
    expect(parseMatrixAnswer(URL, Q, 200, text)).toEqual([
      { metric: { destination_workload: 'web' }, points: [[1765123200, 10.5], [1765123210, NaN], [1765123220, Infinity]] },
      { metric: {}, points: [] },
    ]);
  });

  it("refuses Prometheus's refusal and an instant vector, naming the query", () => {
    const refused = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries' });
    expect(() => parseMatrixAnswer(URL, Q, 400, refused)).toThrow(expect.objectContaining({ code: 'ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED', message: expect.stringContaining('exceeded maximum resolution') as string }));
    const vector = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });
    expect(() => parseMatrixAnswer(URL, Q, 200, vector)).toThrow(expect.objectContaining({ message: expect.stringContaining('expected a matrix, got "vector"') as string }));
    expect(() => parseMatrixAnswer(URL, Q, 502, '<html>bad gateway</html>')).toThrow(expect.objectContaining({ message: expect.stringContaining(Q) as string }));
  });

  it('and the instant parser, which shares its checks, still wants a vector', () => {
    const matrix = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } });
    expect(() => parseVectorAnswer(URL, Q, 200, matrix)).toThrow(expect.objectContaining({ code: 'ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED', message: expect.stringContaining('expected a vector, got "matrix"') as string }));
    expect(parseVectorAnswer(URL, Q, 200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, '2.5'] }] } }))).toEqual([{ metric: { a: 'b' }, value: 2.5 }]);
  });
});
