#!/usr/bin/env node
// weft/http-echo: answers every request with what it received — method, path, headers, the TCP peer
// address it saw (so tests can tell whether the client's IP survived the mesh), the pod's name — over
// HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port. It can be told to fail or wait:
// `?status=503&delay=1000` (or headers x-echo-status / x-echo-delay), env FAIL_RATE=0.2 fails that share
// with 503. `/forward?url=http://backend:8080/` calls another service and nests its answer.
import { createServer as createH1, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNet, type Socket } from 'node:net';

const PORT = Number(process.env.PORT ?? 8080);
const POD = process.env.POD_NAME ?? 'unknown';
const NAMESPACE = process.env.POD_NAMESPACE ?? 'default';
const VERSION = process.env.VERSION ?? '';
const FAIL_RATE = Math.min(1, Math.max(0, Number(process.env.FAIL_RATE ?? 0) || 0));
const MAX_DELAY_MS = 60_000;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function param(url: URL, req: Req, name: string): string | undefined {
  const h = req.headers[`x-echo-${name}`];
  return url.searchParams.get(name) ?? (Array.isArray(h) ? h[0] : h);
}

function send(res: Res, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'x-echo-pod': POD });
  res.end(text);
}

async function handle(req: Req, res: Res): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://echo');
  let bodyBytes = 0;
  for await (const chunk of req) bodyBytes += (chunk as Buffer).length;
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  const delay = Math.min(MAX_DELAY_MS, Math.max(0, Number(param(url, req, 'delay') ?? 0) || 0));
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const socket = req.socket;
  const echo: Record<string, unknown> = {
    pod: POD,
    namespace: NAMESPACE,
    version: VERSION,
    protocol: req.httpVersion === '2.0' ? 'h2' : `HTTP/${req.httpVersion}`,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    peer: { address: socket.remoteAddress?.replace(/^::ffff:/, ''), port: socket.remotePort },
    local: { address: socket.localAddress?.replace(/^::ffff:/, ''), port: socket.localPort },
    bodyBytes,
  };
  if (url.pathname === '/forward') {
    const target = url.searchParams.get('url');
    if (!target) return send(res, 400, { ...echo, error: 'forward needs ?url=' });
    try {
      const r = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      const text = await r.text();
      let upstream: unknown = text;
      try {
        upstream = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return send(res, r.status, { ...echo, upstreamStatus: r.status, upstream });
    } catch (err) {
      return send(res, 502, { ...echo, error: `forward to ${target} failed: ${(err as Error).message}` });
    }
  }
  const asked = Number(param(url, req, 'status') ?? 0);
  const status = asked >= 200 && asked <= 599 ? asked : FAIL_RATE > 0 && Math.random() < FAIL_RATE ? 503 : 200;
  send(res, status, echo);
}

const onRequest = (req: Req, res: Res): void => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) send(res, 500, { pod: POD, error: (err as Error).message });
    else res.end();
  });
};

const h1 = createH1(onRequest);
h1.keepAliveTimeout = 65_000;
const h2 = createH2(onRequest);

// One port, two protocols: peek at the first bytes for the HTTP/2 connection preface.
const server = createNet((socket: Socket) => {
  socket.once('readable', () => {
    const first = socket.read(H2_PREFACE.length) as Buffer | null ?? (socket.read() as Buffer | null);
    if (first === null) {
      socket.once('readable', () => socket.destroy());
      return;
    }
    socket.unshift(first);
    (first.equals(H2_PREFACE) ? h2 : h1).emit('connection', socket);
  });
  socket.on('error', () => socket.destroy());
});
// The bound port, not PORT: with PORT=0 the kernel picks a free one and this line says which.
server.listen(PORT, '0.0.0.0', () => console.log(JSON.stringify({ msg: 'http-echo listening', port: (server.address() as { port: number }).port, pod: POD })));
process.on('SIGTERM', () => process.exit(0));
