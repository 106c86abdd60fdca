import type { EdgeEnd } from '../dashboard-api.js';

// Numbers are written as `weft stat` and `weft edges` write them (cli/traffic/number-cells.ts): a dash
// where Prometheus had none, never a made-up zero.
export { countCell, millisCell, percentCell, rateCell } from '../../traffic/number-cells.js';

export function clock(at: number): string {
  return new Date(at).toLocaleTimeString();
}

export function workloadHref(namespace: string, name: string): string {
  return `#/workload/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** An edge's end as the page names it: `demo/web`, or `demo/svc/web` for a Service no workload answered for. */
export function endName(e: EdgeEnd): string {
  return e.service !== undefined ? `${e.namespace}/svc/${e.service}` : `${e.namespace}/${e.workload}`;
}
