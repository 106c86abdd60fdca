import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { answerAdminError } from '../admin/read-only-routes.js';
import { WeftError } from '../errors/index.js';
import { parseTapFilter } from './tap-filter.js';
import type { TapHub } from './tap-hub.js';

/**
 * `GET /debug/tap?namespace=&workload=&path=&method=&kind=` on the admin port (15000) of a node agent or
 * waypoint: a stream of newline-delimited JSON (HTTP/1.1 chunked) that lasts until the client goes away.
 * The first line is `{"type":"hello","component":..}`; then one tap event per line (tap-event.ts), and
 * `{"type":"dropped","count":n}` where events were dropped for this reader.
 *
 * Authorization: tap shows request metadata, so it is stricter than the other admin views. The admin port
 * listens on the component's loopback (the node's for an agent, the pod's for a waypoint), and tap
 * answers a peer on loopback only, also where the admin address was configured to something else: 403
 * ERR_WEFT_ADMIN_TAP_FORBIDDEN. In a lab the CLI connects from inside that network namespace;
 * `kubectl port-forward` connects from the pod's loopback too.
 */
export const TAP_PATH = '/debug/tap';

/** Answers `req` when it asks for the tap; returns false (nothing written) otherwise. */
export function answerTap(req: IncomingMessage, res: ServerResponse, hub: TapHub, component: string): boolean {
  const url = new URL(req.url ?? '/', 'http://admin');
  if (url.pathname !== TAP_PATH) return false;
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end(`${TAP_PATH} is read-only: use GET\n`);
    return true;
  }
  const peer = req.socket.remoteAddress ?? '';
  if (!isLoopback(peer)) {
    answerAdminError(res, new WeftError('ERR_WEFT_ADMIN_TAP_FORBIDDEN', { component, peer: peer || 'unknown' }));
    return true;
  }
  let filter;
  try {
    filter = parseTapFilter(url.searchParams, TAP_PATH);
  } catch (err) {
    answerAdminError(res, err);
    return true;
  }
  const listener = hub.attach(filter, res);
  if (listener === undefined) {
    answerAdminError(res, new WeftError('ERR_WEFT_ADMIN_TAP_BUSY', { component, max: hub.maxListeners }));
    return true;
  }
  res.on('close', () => hub.detach(listener));
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.write(`${JSON.stringify({ type: 'hello', component, listeners: hub.size, maxListeners: hub.maxListeners })}\n`);
  return true;
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}
