import { WeftError } from '../errors/index.js';
import type { TapEvent } from './tap-event.js';

/**
 * The server-side filter of one tap listener (query parameters of `/debug/tap`), so that a filtered tap
 * costs the component only the events it sends. An event matches when every given field matches:
 * - `namespace`: the source's or the destination's namespace;
 * - `workload`: the source's or the destination's workload (in `namespace` when both are given);
 * - `path`: a request whose path starts with it (connections have none, so never match);
 * - `method`: a request with this method (any case);
 * - `kind`: `request` or `connection`.
 */
export interface TapFilter {
  readonly namespace?: string;
  readonly workload?: string;
  readonly path?: string;
  readonly method?: string;
  readonly kind?: TapEvent['type'];
}

export const TAP_FILTER_KEYS = ['namespace', 'workload', 'path', 'method', 'kind'] as const;

export function parseTapFilter(q: URLSearchParams, path: string): TapFilter {
  const get = (k: string): string | undefined => {
    const v = q.get(k);
    return v === null || v === '' ? undefined : v;
  };
  const kind = get('kind');
  if (kind !== undefined && kind !== 'request' && kind !== 'connection') {
    throw new WeftError('ERR_WEFT_ADMIN_QUERY_INVALID', { path, reason: `kind ${kind} is neither request nor connection` });
  }
  const p = get('path');
  if (p !== undefined && !p.startsWith('/')) throw new WeftError('ERR_WEFT_ADMIN_QUERY_INVALID', { path, reason: `path ${p} does not start with /` });
  return { namespace: get('namespace'), workload: get('workload'), path: p, method: get('method')?.toUpperCase(), kind };
}

export function matchesTap(f: TapFilter, e: TapEvent): boolean {
  if (f.kind !== undefined && e.type !== f.kind) return false;
  if (f.path !== undefined || f.method !== undefined) {
    if (e.type !== 'request') return false;
    if (f.path !== undefined && !e.path.startsWith(f.path)) return false;
    if (f.method !== undefined && e.method.toUpperCase() !== f.method) return false;
  }
  if (f.namespace !== undefined || f.workload !== undefined) {
    const side = (p: { readonly namespace: string; readonly workload: string }): boolean =>
      (f.namespace === undefined || p.namespace === f.namespace) && (f.workload === undefined || p.workload === f.workload);
    if (!side(e.source) && !side(e.destination)) return false;
  }
  return true;
}
