// The node agent's side of lib/enrollment.ts, for the plugin tests: a real HTTP/1.1 server on a real
// unix socket that validates every request against the contract's zod schemas (so a plugin that drifts
// from the contract fails here) and answers as each test tells it to.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnrollmentRequestSchema, type EnrollmentRequest } from '../../lib/enrollment.js';

export type Reply =
  | { kind: 'ok'; captured: boolean; reason?: string }
  | { kind: 'error'; status: number; code: string; message: string; hint?: string }
  | { kind: 'raw'; status: number; body: string }
  | { kind: 'hang' };

export interface AgentDouble {
  readonly socket: string;
  readonly requests: { path: string; body: EnrollmentRequest }[];
  /** Requests the schema refused (a test asserts this stays empty). */
  readonly invalid: { path: string; body: string; error: string }[];
  healthz: number;
  /** Body of the healthz answer (the real agent sends `{ok: ready}`). */
  healthzBody: string;
  delayMs: number;
  reply: Reply;
  close(): Promise<void>;
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `weft-t${Math.random().toString(36).slice(2, 8)}-${tag}-`));
}

export async function startAgentDouble(socketPath?: string): Promise<AgentDouble> {
  const dir = socketPath === undefined ? tempDir('agent') : undefined;
  const socket = socketPath ?? join(dir!, 'cni.sock');
  const hanging = new Set<ServerResponse>();
  const double: AgentDouble = {
    socket,
    requests: [],
    invalid: [],
    healthz: 200,
    healthzBody: '{"ok":true}',
    delayMs: 0,
    reply: { kind: 'ok', captured: true, reason: 'enrolled' },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && req.url === '/v1/healthz') {
        res.writeHead(double.healthz, { 'content-type': 'application/json' }).end(double.healthzBody);
        return;
      }
      const m = /^\/v1\/cni\/(add|del|check)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || m === null) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: `${req.method} ${req.url}` }));
        return;
      }
      let parsed: EnrollmentRequest;
      try {
        parsed = EnrollmentRequestSchema.parse(JSON.parse(text));
        if (parsed.command.toLowerCase() !== m[1]) throw new Error(`command ${parsed.command} sent to ${req.url}`);
      } catch (err) {
        double.invalid.push({ path: req.url ?? '', body: text, error: (err as Error).message });
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'BAD_REQUEST', message: (err as Error).message }));
        return;
      }
      double.requests.push({ path: req.url ?? '', body: parsed });
      const answer = (): void => {
        const r = double.reply;
        if (r.kind === 'hang') {
          hanging.add(res);
          return;
        }
        if (r.kind === 'ok') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ captured: r.captured, reason: r.reason ?? '' }));
        else if (r.kind === 'error') res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: r.code, message: r.message, hint: r.hint ?? '' }));
        else res.writeHead(r.status).end(r.body);
      };
      if (double.delayMs > 0) setTimeout(answer, double.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return double;
}
