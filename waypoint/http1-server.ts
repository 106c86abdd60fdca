import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../lib/telemetry/log.js';
import type { ConnectionInfo, Forwarder } from './forward.js';

// HTTP/1.1 on tunnel streams: node:http's parser (llhttp, strict: insecureHTTPParser off) parses requests
// from a Duplex handed over with `emit('connection')`. llhttp already rejects CL+TE, duplicate or invalid
// Content-Length, bad chunk sizes, obs-fold and invalid header characters (verified by
// test/waypoint/waypoint-malformed.test.ts); the checks below close what it leaves open: transfer
// codings other than plain `chunked`, missing or several Host headers, and absolute-form targets. Every
// refusal is a 400 with `connection: close`; requests pipelined behind it are dropped unanswered, and
// nothing of them is forwarded. Chunked bodies are held back until complete or 64 KiB (forward.ts), so a
// broken chunk stream is refused before any byte goes upstream.

export const MAX_HEADER_BYTES = 16 * 1024;

const BAD_REQUEST_BODY = 'malformed or ambiguous HTTP request\n';
const BAD_REQUEST = `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: ${BAD_REQUEST_BODY.length}\r\nx-weft-reason: BAD_REQUEST\r\nconnection: close\r\n\r\n${BAD_REQUEST_BODY}`;

export interface Http1ServerOptions {
  readonly forwarder: Forwarder;
  readonly log: Logger;
  /** Idle timeout of a downstream connection, ms. */
  readonly idleTimeoutMs: number;
}

function hostHeaderCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

/** Why a request parsed by llhttp must still be refused, or undefined. */
export function strictCheck(req: IncomingMessage): string | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.headers['content-length'] !== undefined) return 'Content-Length with Transfer-Encoding';
    if (te.trim().toLowerCase() !== 'chunked') return `unsupported Transfer-Encoding "${te}"`;
  }
  const hosts = hostHeaderCount(req.rawHeaders);
  if (hosts > 1) return 'several Host headers';
  if (hosts === 0 && req.httpVersionMinor >= 1) return 'no Host header';
  const url = req.url ?? '';
  if (!url.startsWith('/') && !(req.method === 'OPTIONS' && url === '*')) return 'request target is not origin-form';
  return undefined;
}

export class Http1Server {
  private readonly server: Server;
  private readonly info = new WeakMap<object, ConnectionInfo>();
  /** Connections that sent a refused request: anything pipelined behind it is never served. */
  private readonly poisoned = new WeakSet<object>();

  constructor(private readonly o: Http1ServerOptions) {
    this.server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, insecureHTTPParser: false, requireHostHeader: false, keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 30_000 }, (req, res) =>
      this.onRequest(req, res),
    );
    this.server.timeout = o.idleTimeoutMs;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (this.poisoned.has(socket)) {
        // Already answered 400 for this connection; let that response flush, add nothing.
        socket.end();
        return;
      }
      if (err.code !== 'ECONNRESET' && socket.writable) {
        o.log.debug({ err: err.message, code: err.code }, 'malformed HTTP/1.1 request refused');
        socket.end(BAD_REQUEST);
      }
      socket.destroy();
    });
  }

  /** Serves HTTP/1.1 on a connection (a tunnel stream) whose requests all go to `info.service`. */
  accept(stream: Duplex, info: ConnectionInfo): void {
    this.info.set(stream, info);
    this.server.emit('connection', stream);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const info = this.info.get(req.socket);
    if (this.poisoned.has(req.socket)) {
      // Pipelined behind a refused request: a smuggling attempt. Not answered, not forwarded.
      req.socket.destroy();
      return;
    }
    const bad = strictCheck(req);
    if (bad !== undefined || !info) {
      this.poisoned.add(req.socket);
      this.o.log.debug({ reason: bad }, 'malformed HTTP/1.1 request refused');
      res.shouldKeepAlive = false;
      res.writeHead(400, { 'content-type': 'text/plain', 'x-weft-reason': 'BAD_REQUEST', connection: 'close' });
      res.end(BAD_REQUEST_BODY, () => req.socket.destroy());
      return;
    }
    this.o.forwarder.handle(info, req, res);
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}
