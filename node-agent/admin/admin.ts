import { createServer, type Server, type ServerResponse } from 'node:http';
import type { StateStore } from '../../lib/model/index.js';
import type { Enrollments } from '../enroll/enrollments.js';
import type { Connections } from '../proxy/connections.js';
import type { HbonePools } from '../proxy/hbone-pools.js';
import type { CertificateManager } from '../../lib/identity/index.js';

export interface AdminSources {
  readonly store: StateStore;
  readonly enrollments: Enrollments;
  readonly connections: Connections;
  readonly pool: HbonePools;
  readonly certs: CertificateManager;
  readonly config: unknown;
}

/** Admin endpoints (15000, loopback by default): what the agent believes and what it is doing. */
export async function serveAdmin(host: string, port: number, s: AdminSources, fd?: number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    switch (url) {
      case '/config_dump':
        return json(res, {
          config: s.config,
          generation: s.store.generation,
          workloads: [...s.store.workloads()],
          services: [...s.store.services()],
          policies: [...s.store.all('Authorization')],
          trustBundle: s.store.trustBundle() ? { trustDomain: s.store.trustBundle()!.trustDomain, roots: s.store.trustBundle()!.roots.length } : undefined,
          certificates: s.certs.identities(),
        });
      case '/debug/pods':
        return json(res, { pods: s.enrollments.list() });
      case '/debug/connections':
        return json(res, {
          pool: s.pool.stats(),
          connections: s.connections.list().map((c) => ({ id: c.id, startedAt: new Date(c.startedAt).toISOString(), ...c.info })),
        });
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /config_dump, /debug/pods, /debug/connections\n');
    }
  });
  await listen(server, host, port, fd);
  return server;
}

/** `/healthz/ready` (15021): 200 only once `ready()` holds. */
export async function serveHealth(host: string, port: number, ready: () => string | undefined, fd?: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/healthz/ready') return void res.writeHead(404).end();
    const notReady = ready();
    if (notReady) res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${notReady}\n`);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
  });
  await listen(server, host, port, fd);
  return server;
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1));
}

/** Listens on `fd` when given (a SO_REUSEPORT socket from the addon), else on host:port. */
function listen(server: Server, host: string, port: number, fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(fd !== undefined ? { fd } : { host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
