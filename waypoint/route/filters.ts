import type { Headers } from '../upstream/exchange.js';
import type { HttpFilter } from '../../lib/model/index.js';

// HTTPRoute filters (httproute_types.go). Header modifiers: `set` overwrites, `add` APPENDS to an existing
// value (`my-header: foo` + add `bar` → `my-header: foo,bar`), `remove` drops; names are case-insensitive.
// Path modifiers: ReplaceFullPath, or ReplacePrefixMatch which swaps the matched prefix element-wise
// (`/foo` → `/xyz`: `/foo/bar` → `/xyz/bar`, `/foo` → `/xyz`; replacing with `/`: `/foo/bar` → `/bar`).

export type { Headers };

type HeaderModifier = Extract<HttpFilter, { type: 'RequestHeaderModifier' }>['requestHeaderModifier'];

/** Applies a header modifier in place: set, then add, then remove. */
export function modifyHeaders(headers: Headers, mod: HeaderModifier): void {
  for (const { name, value } of mod.set) headers[name.toLowerCase()] = value;
  for (const { name, value } of mod.add) {
    const key = name.toLowerCase();
    const cur = headers[key];
    if (cur === undefined) headers[key] = value;
    else if (Array.isArray(cur)) headers[key] = key === 'set-cookie' ? [...cur, value] : `${cur.join(',')},${value}`;
    else headers[key] = key === 'set-cookie' ? [cur, value] : `${cur},${value}`;
  }
  for (const name of mod.remove) delete headers[name.toLowerCase()];
}

/** ReplacePrefixMatch: `path` matched PathPrefix `prefix`; the result always starts with `/`. */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix === '/' ? '' : prefix;
  const rest = path.slice(p.length); // '' or starts with '/'
  const r = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  const out = r + rest;
  if (out === '') return '/';
  return out.startsWith('/') ? out : `/${out}`;
}

type PathModifier = NonNullable<Extract<HttpFilter, { type: 'URLRewrite' }>['urlRewrite']['path']>;

/** The new path (no query) for a path modifier; `prefix` is the matched PathPrefix (undefined otherwise). */
export function rewritePath(path: string, mod: PathModifier, prefix: string | undefined): string {
  if (mod.type === 'ReplaceFullPath') return mod.replaceFullPath;
  // ReplacePrefixMatch is only valid with a PathPrefix match; otherwise the path is left as it is.
  return prefix === undefined ? path : replacePrefix(path, prefix, mod.replacePrefixMatch);
}

type Redirect = Extract<HttpFilter, { type: 'RequestRedirect' }>['requestRedirect'];

/**
 * The Location of a RequestRedirect. When no port is configured it is the scheme's well-known port if the
 * scheme is set, else the listener port (in the mesh, the Service port); 80 for http and 443 for https are
 * left out of the Location.
 */
export function redirectLocation(
  r: Redirect,
  req: { scheme: 'http' | 'https'; host: string; path: string; query: string; listenerPort: number },
  prefix: string | undefined,
): string {
  const scheme = r.scheme ?? req.scheme;
  const host = r.hostname ?? hostWithoutPort(req.host);
  const port = r.port ?? (r.scheme === 'http' ? 80 : r.scheme === 'https' ? 443 : req.listenerPort);
  const path = r.path ? rewritePath(req.path, r.path, prefix) : req.path;
  const showPort = !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443));
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}${showPort ? `:${port}` : ''}${path}${req.query ? `?${req.query}` : ''}`;
}

export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
