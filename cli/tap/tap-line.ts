import type { ConnectionTapEvent, RequestTapEvent, TapDryRun, TapEvent, TapPeer, TapVerdict } from '../../lib/tap/index.js';

// `weft tap` for people: one line per event, the fields in a fixed order so that lines read as columns.

export function tapLine(e: TapEvent, component: string): string {
  return e.type === 'request' ? requestLine(e, component) : connectionLine(e, component);
}

function requestLine(e: RequestTapEvent, component: string): string {
  const status = e.grpcStatus === undefined ? String(e.status) : `${e.status} grpc-status=${e.grpcStatus}`;
  const outcome = e.outcome === '-' ? '' : ` (${e.outcome})`;
  return [
    `${clock(e.time)} req  ${component}`,
    `${e.method} ${e.authority}${e.path} → ${status}${outcome} in ${e.latencyMs} ms`,
    `route=${e.route} backend=${e.backend}${e.endpoint === undefined ? '' : ` endpoint=${e.endpoint}`}`,
    `src=${peer(e.source)}`,
    `dst=${peer(e.destination)}`,
    verdictText(e.verdict, e.dryRun),
  ].join('  ');
}

function connectionLine(e: ConnectionTapEvent, component: string): string {
  const d = e.destination;
  const end = e.event === 'close' ? `  ${e.outcome ?? 'ok'} sent=${e.bytesSent ?? 0}B received=${e.bytesReceived ?? 0}B in ${e.durationMs ?? 0} ms` : '';
  const verdict = e.verdict === undefined && e.dryRun === undefined ? '' : `  ${verdictText(e.verdict, e.dryRun)}`;
  return [
    `${clock(e.time)} conn ${component}`,
    `${e.event} ${e.reporter} ${e.direction} via ${e.via}`,
    `src=${peer(e.source)}`,
    `dst=${peer(d)} ${d.service === 'unknown' ? '' : `${d.service} `}${d.address}:${d.port}${end}${verdict}`,
  ].join('  ');
}

/** `ns/workload (spiffe://...)`. */
function peer(p: TapPeer): string {
  return `${p.namespace}/${p.workload} (${p.identity})`;
}

/** `allow`, `allow by ns/p rule 0`, `DENY by ns/p rule 1`, with the dry-run verdict after it. */
export function verdictText(v: TapVerdict | undefined, dry: TapDryRun | undefined): string {
  const by = (policy: string | undefined, rule: number | undefined): string => (policy === undefined ? '' : ` by ${policy}${rule === undefined ? '' : ` rule ${rule}`}`);
  const enforced = v === undefined ? 'verdict=-' : `verdict=${v.action === 'deny' ? 'DENY' : 'allow'}${by(v.policy, v.rule)}`;
  return dry === undefined ? enforced : `${enforced}  dry-run=${dry.verdict}${by(dry.policy, dry.rule)}`;
}

/** `HH:MM:SS.mmm` of an ISO time. */
function clock(iso: string): string {
  return iso.length >= 23 ? iso.slice(11, 23) : iso;
}
