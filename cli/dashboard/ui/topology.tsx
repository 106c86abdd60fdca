import type { Edge, Topology } from '../dashboard-api.js';
import { countCell, endName, percentCell, workloadHref } from './format.js';

/**
 * Who talks to whom (`weft edges`' edges), drawn in plain SVG: every end an edge names on a circle (sorted,
 * so the picture stays put between refreshes), one arrow per source → destination; green for mutual TLS,
 * red and dashed for plaintext, orange for a mix.
 */
const SIZE = 560;
const R = 200;

function security(e: Edge): 'mtls' | 'plain' | 'partial' {
  return e.mtlsRate >= 1 ? 'mtls' : e.mtlsRate <= 0 ? 'plain' : 'partial';
}
const COLOR = { mtls: '#2a9d4b', plain: '#d33', partial: '#e08a00' } as const;

export function TopologyGraph(props: { topology: Topology }) {
  const edges = props.topology.edges;
  const names = [...new Set(edges.flatMap((e) => [endName(e.source), endName(e.destination)]))].sort();
  if (names.length === 0) return <p class="empty">no traffic in the last {props.topology.window}</p>;
  const pos = new Map(
    names.map((n, i) => {
      const a = (2 * Math.PI * i) / names.length - Math.PI / 2;
      return [n, { x: SIZE / 2 + R * Math.cos(a), y: SIZE / 2 + R * Math.sin(a) }] as const;
    }),
  );
  const nodes = new Map(edges.flatMap((e) => [e.source, e.destination]).map((end) => [endName(end), end]));
  return (
    <svg class="topology" data-testid="topology" viewBox={`0 0 ${SIZE} ${SIZE}`} width={SIZE} height={SIZE}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
        </marker>
      </defs>
      {edges.map((e) => {
        const a = pos.get(endName(e.source))!;
        const b = pos.get(endName(e.destination))!;
        // Bent, so that the two directions of one pair stay apart.
        const mx = (a.x + b.x) / 2 + 0.15 * (b.y - a.y);
        const my = (a.y + b.y) / 2 - 0.15 * (b.x - a.x);
        const end = shorten(mx, my, b.x, b.y, 26);
        const sec = security(e);
        const what = [e.requests > 0 ? `${countCell(e.requests)} req` : '', e.connections > 0 ? `${countCell(e.connections)} conn` : ''].filter((x) => x !== '').join(', ');
        return (
          <g class={`edge ${sec}`} data-testid={`edge-${endName(e.source)}-${endName(e.destination)}`}>
            <path d={`M ${a.x} ${a.y} Q ${mx} ${my} ${end.x} ${end.y}`} fill="none" stroke={COLOR[sec]} stroke-width="2" stroke-dasharray={sec === 'mtls' ? undefined : '6 4'} marker-end="url(#arrow)" />
            <text x={mx} y={my} class="edge-label">{`${what}, mTLS ${percentCell(e.mtlsRate)}`}</text>
          </g>
        );
      })}
      {names.map((n) => {
        const p = pos.get(n)!;
        const end = nodes.get(n)!;
        const circle = (
          <>
            <circle cx={p.x} cy={p.y} r="22" class={end.service === undefined ? 'node' : 'node service'} />
            <text x={p.x} y={p.y + 36} class="node-label">{n}</text>
          </>
        );
        return end.service === undefined && end.workload !== 'unknown' ? <a href={workloadHref(end.namespace, end.workload)}>{circle}</a> : circle;
      })}
    </svg>
  );
}

/** The point `by` before (x2, y2) on the way from (x1, y1): the arrow ends at the node's rim. */
function shorten(x1: number, y1: number, x2: number, y2: number, by: number): { x: number; y: number } {
  const d = Math.hypot(x2 - x1, y2 - y1) || 1;
  return { x: x2 - ((x2 - x1) * by) / d, y: y2 - ((y2 - y1) * by) / d };
}
