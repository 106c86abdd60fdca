import type { IncomingMessage, ServerResponse } from 'node:http';
import { WeftError, isWeftError } from '../errors/index.js';

/**
 * The admin servers' (node agent and waypoint, port 15000, loopback by default) read-only JSON endpoints,
 * answered the same way by both: GET only (the admin port changes nothing), one handler per path that is
 * given the query string, a WeftError from a handler answered as its HTTP status with `{code, message,
 * hint}`, and a 404 that lists the paths there are. Authorization is the admin port's own: it binds to
 * loopback (ARCHITECTURE.md), so only the node itself (or a port-forward) reaches it.
 */
export type ReadOnlyHandler = (query: URLSearchParams) => unknown;

export type ReadOnlyRoutes = Readonly<Record<string, ReadOnlyHandler>>;

/** Answers `req` when its path is one of `routes`; returns false (nothing written) otherwise. */
export function answerReadOnly(req: IncomingMessage, res: ServerResponse, routes: ReadOnlyRoutes): boolean {
  const url = new URL(req.url ?? '/', 'http://admin');
  const handler = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
  if (handler === undefined) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end(`${url.pathname} is read-only: use GET\n`);
    return true;
  }
  let body: unknown;
  try {
    body = handler(url.searchParams);
  } catch (err) {
    answerAdminError(res, err);
    return true;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1));
  return true;
}

/** A refusal as the CLI reads it: the error's HTTP status and `{error: {code, message, hint, params}}`. */
export function answerAdminError(res: ServerResponse, err: unknown): void {
  const e = isWeftError(err) ? err : new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: String(err) }, { cause: err });
  const body = { error: { code: e.code, message: e.message, hint: e.hint, params: e.params } };
  res.writeHead(e.http ?? 500, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1));
}

/** The 404 of an admin server: what there is to ask. */
export function notFound(res: ServerResponse, routes: ReadOnlyRoutes): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end(`try ${Object.keys(routes).join(', ')}\n`);
}

/** A query parameter a handler cannot do without; its absence is the caller's error (400). */
export function queryParam(q: URLSearchParams, key: string, path: string): string {
  const v = q.get(key);
  if (v === null || v === '') throw new WeftError('ERR_WEFT_ADMIN_QUERY_INVALID', { path, reason: `the query parameter ${key} is missing` });
  return v;
}

/** A port number parameter (1-65535). */
export function queryPort(q: URLSearchParams, key: string, path: string): number {
  const raw = queryParam(q, key, path);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new WeftError('ERR_WEFT_ADMIN_QUERY_INVALID', { path, reason: `${key} ${raw} is not a port number` });
  return port;
}
