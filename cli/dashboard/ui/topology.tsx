import type { Edge, Topology } from '../dashboard-api.js';
import { workloadHref } from './format.js';

/**
 * Who talks to whom, drawn in plain SVG: every workload an edge names on a circle (sorted, so the picture
 * stays put between refreshes), one arrow per source → destination and layer; green for mutual TLS, red
 * and dashed for plaintext.
 */
const SIZE = 520;
const R = 190;

export function TopologyGraph(props: { topology: Topology }) {
  const edges = props.topology.edges;
  const names = [...new Set(edges.flatMap((e) => [id(e.source), id(e.destination)]))].sort();
  if (names.length === 0) return <p class="empty">no traffic in the last {props.topology.window}</p>;
  const pos = new Map(names.map((n, i) => {
    const a = (2 * Math.PI * i) / names.length - Math.PI / 2;
    return [n, { x: SIZE / 2 + R * Math.cos(a), y: SIZE / 2 + R * Math.sin(a) }] as const;
  }));
  return (
    <svg class="topology" data-testid="topology" viewBox={`0 0 ${SIZE} ${SIZE}`} width={SIZE} height={SIZE}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
        </marker>
      </defs>
      {edges.map((e) => {
        const a = pos.get(id(e.source))!;
        const b = pos.get(id(e.destination))!;
        // L7 edges bend one way, L4 the other, so both layers of one pair stay visible.
        const bend = e.layer === 'L7' ? 0.15 : -0.15;
        const mx = (a.x + b.x) / 2 + bend * (b.y - a.y);
        const my = (a.y + b.y) / 2 - bend * (b.x - a.x);
        const end = shorten(mx, my, b.x, b.y, 26);
        return (
          <g class={`edge ${e.mtls ? 'mtls' : 'plain'}`} data-testid={`edge-${id(e.source)}-${id(e.destination)}-${e.layer}`}>
            <path d={`M ${a.x} ${a.y} Q ${mx} ${my} ${end.x} ${end.y}`} fill="none" stroke={e.mtls ? '#2a9d4b' : '#d33'} stroke-width="2" stroke-dasharray={e.mtls ? undefined : '6 4'} marker-end="url(#arrow)" />
            <text x={mx} y={my} class="edge-label">{`${e.layer} ${e.count} ${e.mtls ? 'mTLS' : 'plaintext'}`}</text>
          </g>
        );
      })}
      {names.map((n) => {
        const p = pos.get(n)!;
        const [ns, name] = n.split('/', 2) as [string, string];
        return (
          <a href={workloadHref(ns, name)}>
            <circle cx={p.x} cy={p.y} r="22" class="node" />
            <text x={p.x} y={p.y + 36} class="node-label">{n}</text>
          </a>
        );
      })}
    </svg>
  );
}

function id(w: Edge['source']): string {
  return `${w.namespace}/${w.name}`;
}

/** The point `by` before (x2, y2) on the way from (x1, y1): the arrow ends at the node's rim. */
function shorten(x1: number, y1: number, x2: number, y2: number, by: number): { x: number; y: number } {
  const d = Math.hypot(x2 - x1, y2 - y1) || 1;
  return { x: x2 - ((x2 - x1) * by) / d, y: y2 - ((y2 - y1) * by) / d };
}
