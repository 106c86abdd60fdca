import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WeftError, isWeftError } from '../../lib/errors/index.js';
import { EnrollmentRequestSchema, type EnrollmentRequest, type EnrollmentResponse } from '../../lib/enrollment.js';
import type { Logger } from '../../lib/telemetry/log.js';

const MAX_BODY = 1 << 20;

export interface EnrollmentHandler {
  add(req: EnrollmentRequest): Promise<EnrollmentResponse>;
  del(req: EnrollmentRequest): Promise<EnrollmentResponse>;
  check(req: EnrollmentRequest): Promise<EnrollmentResponse>;
}

/**
 * The CNI plugin's endpoint (lib/enrollment.ts): JSON over HTTP/1.1 on a unix socket. Every failure is
 * an EnrollmentError body with the WeftError code, so the plugin can fail ADD with a useful message.
 * `ready()` gates ADD: until the agent has its first state, ADD answers 503 NOT_READY (runtime retries).
 */
export async function serveEnrollment(socketPath: string, handler: EnrollmentHandler, ready: () => boolean, log: Logger): Promise<Server> {
  await mkdir(dirname(socketPath), { recursive: true });
  const server = createServer((req, res) => {
    void handle(req, res, handler, ready, log);
  });
  server.keepAliveTimeout = 5000;
  // Bound under a name of its own, then renamed over `socketPath`: a successor agent takes the path over
  // in one step while this one still runs (the plugin never finds no socket), and closing this server
  // later unlinks only that own name (Node removes a unix socket's bound path on close), never the
  // successor's socket. The mode is set before the rename: the path is never open to others.
  const own = `${socketPath}.${randomBytes(3).toString('hex')}`;
  await rm(own, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(own, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    await chmod(own, 0o600);
    await rename(own, socketPath);
  } catch (err) {
    server.close();
    throw err;
  }
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, handler: EnrollmentHandler, ready: () => boolean, log: Logger): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/v1/healthz') return send(res, 200, { ok: ready() });
    const route = req.method === 'POST' ? /^\/v1\/cni\/(add|del|check)$/.exec(req.url ?? '')?.[1] : undefined;
    if (!route) return send(res, 404, { code: 'ERR_WEFT_AGENT_ENROLL_INVALID', message: `no route ${req.method} ${req.url}`, hint: 'POST /v1/cni/{add,del,check}' });
    const body = await readBody(req);
    let parsed: EnrollmentRequest;
    try {
      parsed = EnrollmentRequestSchema.parse(JSON.parse(body));
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_ENROLL_INVALID', { reason: (err as Error).message.slice(0, 300) }, { cause: err });
    }
    if (route === 'add' && !ready()) throw new WeftError('ERR_WEFT_AGENT_NOT_READY', { reason: 'waiting for first cluster state and certificates' });
    const t0 = performance.now();
    const out = route === 'add' ? await handler.add(parsed) : route === 'del' ? await handler.del(parsed) : await handler.check(parsed);
    log.info({ command: parsed.command, pod: `${parsed.podNamespace}/${parsed.podName}`, captured: out.captured, reason: out.reason, ms: Math.round(performance.now() - t0) }, 'enrollment');
    send(res, 200, out);
  } catch (err) {
    const e = isWeftError(err) ? err : new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: (err as Error).message }, { cause: err });
    log.warn({ err: e, url: req.url }, 'enrollment failed');
    send(res, e.http ?? 500, e.toJSON());
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new WeftError('ERR_WEFT_AGENT_ENROLL_INVALID', { reason: `body over ${MAX_BODY} bytes` }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
