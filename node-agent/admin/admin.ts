import { createServer, type Server, type ServerResponse } from 'node:http';
import { listenHttp, type ListenAt } from '../../lib/telemetry/http-endpoints.js';
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
export async function serveAdmin(at: ListenAt, s: AdminSources): Promise<Server> {
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
  await listenHttp(server, at);
  return server;
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1));
}
