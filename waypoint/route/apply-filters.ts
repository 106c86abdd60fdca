import type { HttpFilter } from '../../lib/model/index.js';
import { modifyHeaders, redirectLocation, rewritePath, type Headers } from './filters.js';

// Applies one list of HTTPRoute filters to the request on its way upstream: a rule's `filters`, then the
// chosen backendRef's `filters` (which act only on requests sent to that backend). Each list edits the
// same upstream request; a RequestRedirect ends the request with its response instead.

export type MirrorFilter = Extract<HttpFilter, { type: 'RequestMirror' }>;
export type HeaderModifier = Extract<HttpFilter, { type: 'ResponseHeaderModifier' }>['responseHeaderModifier'];

/** The request as the client sent it (what redirects and path rewrites are computed from). */
export interface OriginalRequest {
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  /** The Service port (the mesh's listener port). */
  readonly listenerPort: number;
  /** The matched PathPrefix, for ReplacePrefixMatch (undefined for other matches). */
  readonly prefix: string | undefined;
}

/** What the filters change; created once per request (the header object is the upstream request's own). */
export interface UpstreamEdit {
  path: string;
  authority: string;
  readonly headers: Headers;
  responseMods: HeaderModifier[] | undefined;
  mirrors: MirrorFilter[] | undefined;
}

export interface Redirect {
  readonly status: number;
  readonly location: string;
}

/** Applies `filters` in order; returns the redirect to answer with, if one of them is a RequestRedirect. */
export function applyFilters(filters: readonly HttpFilter[], req: OriginalRequest, edit: UpstreamEdit): Redirect | undefined {
  for (const f of filters) {
    switch (f.type) {
      case 'RequestRedirect':
        return {
          status: f.requestRedirect.statusCode,
          location: redirectLocation(f.requestRedirect, { scheme: 'http', host: req.authority, path: req.path, query: req.query, listenerPort: req.listenerPort }, req.prefix),
        };
      case 'RequestHeaderModifier':
        modifyHeaders(edit.headers, f.requestHeaderModifier);
        break;
      case 'ResponseHeaderModifier':
        (edit.responseMods ??= []).push(f.responseHeaderModifier);
        break;
      case 'URLRewrite':
        if (f.urlRewrite.hostname !== undefined) edit.authority = f.urlRewrite.hostname;
        if (f.urlRewrite.path) edit.path = rewritePath(req.path, f.urlRewrite.path, req.prefix);
        break;
      case 'RequestMirror':
        (edit.mirrors ??= []).push(f);
        break;
    }
  }
  return undefined;
}
