import { request } from 'node:http';
import type { Socket } from 'node:net';
import { WeftError, codes, type WeftErrorCode } from '../../lib/errors/index.js';

/**
 * A GET against a node agent's or waypoint's read-only admin endpoint (port 15000, loopback of the
 * component). `connect` makes the socket: a plain one for an address the CLI reaches (`--admin`), one
 * created inside the component's network namespace in a lab. A component's refusal (`{error: {code,
 * params}}`) is raised as the same WeftError, so the user reads the component's message and hint.
 */
export interface AdminEndpoint {
  /** What to call it in messages: `node agent n1`, `waypoint demo/waypoint`. */
  readonly label: string;
  /** Where it listens, for messages. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** A new unconnected socket from which the request connects to host:port. */
  socket(): Socket;
}

const TIMEOUT_MS = 10_000;

export function adminGet<T>(ep: AdminEndpoint, path: string, query: Readonly<Record<string, string | number | undefined>> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const full = qs.size > 0 ? `${path}?${qs.toString()}` : path;
  return new Promise<T>((resolve, reject) => {
    const unreachable = (reason: string, cause?: unknown): WeftError =>
      new WeftError('ERR_WEFT_CLI_ADMIN_UNREACHABLE', { target: ep.label, address: ep.address, reason }, { cause });
    let socket: Socket;
    try {
      socket = ep.socket();
    } catch (err) {
      reject(err instanceof WeftError ? err : unreachable(err instanceof Error ? err.message : String(err), err));
      return;
    }
    const req = request({ host: ep.host, port: ep.port, path: full, method: 'GET', headers: { accept: 'application/json' }, createConnection: () => socket.connect(ep.port, ep.host), timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(unreachable(err.message, err)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = parseJson(text);
        if (res.statusCode === 200 && body !== undefined) return resolve(body as T);
        reject(adminRefusal(ep, full, res.statusCode ?? 0, text));
      });
    });
    req.on('timeout', () => req.destroy(unreachable(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(err instanceof WeftError ? err : unreachable(err.message, err)));
    req.end();
  });
}

/** The component's own error when it sent one this CLI knows; else what it answered. */
export function adminRefusal(ep: AdminEndpoint, path: string, status: number, text: string): WeftError {
  const body = parseJson(text);
  const e = (body as { error?: { code?: unknown; params?: unknown; message?: unknown } } | undefined)?.error;
  if (e && typeof e.code === 'string' && Object.hasOwn(codes, e.code) && typeof e.params === 'object' && e.params !== null) {
    return new WeftError(e.code as WeftErrorCode, e.params as Record<string, string | number | boolean>);
  }
  const reason = typeof e?.message === 'string' ? e.message : text.trim().slice(0, 200) || 'no body';
  return new WeftError('ERR_WEFT_CLI_ADMIN_BAD_ANSWER', { target: ep.label, path: path.split('?')[0], status, reason });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
