import { createServer, type Server } from 'node:http';
import { answerReadOnly, notFound, policyRows, workloadRows, type ReadOnlyRoutes } from '../../lib/admin/index.js';
import type { StateStore } from '../../lib/model/index.js';
import type { Enrollments } from '../enroll/enrollments.js';
import type { ProxyInputs } from '../proxy/inputs.js';
import { summarizeCertificate, type CertificateManager } from '../../lib/identity/index.js';
import { explainInbound, explainOutbound, type ExplainSources } from './explain.js';

export interface AdminSources {
  readonly store: StateStore;
  readonly enrollments: Enrollments;
  readonly inputs: ProxyInputs;
  readonly certs: CertificateManager;
  /** This agent's node (answers name it). */
  readonly node: string;
  /** The roots the agent's certificates chain to (the pushed trust bundle, else the local CA's). */
  roots(): readonly string[];
  readonly config: unknown;
}

/**
 * Admin endpoints (15000, loopback by default): what the agent believes and what it is doing, read-only.
 * `weft get` and `weft explain` read /debug/workloads, /debug/policies, /debug/certificates, /config_dump
 * and /debug/explain/{outbound,inbound}.
 */
export function adminRoutes(s: AdminSources): ReadOnlyRoutes {
  const explain: ExplainSources = {
    inputs: s.inputs,
    node: s.node,
    enrolled: () => new Set(s.enrollments.list().map((p) => `${p.namespace}/${p.name}`)),
  };
  return {
    '/config_dump': () => ({
      config: s.config,
      generation: s.store.generation,
      workloads: [...s.store.workloads()],
      services: [...s.store.services()],
      policies: [...s.store.all('Authorization')],
      trustBundle: s.store.trustBundle() ? { trustDomain: s.store.trustBundle()!.trustDomain, roots: s.store.trustBundle()!.roots.length } : undefined,
      certificates: s.certs.identities(),
    }),
    '/debug/pods': () => ({ pods: s.enrollments.list() }),
    '/debug/connections': () => ({
      pool: s.inputs.pool.stats(),
      connections: s.inputs.connections.list().map((c) => ({ id: c.id, startedAt: new Date(c.startedAt).toISOString(), ...c.info })),
    }),
    '/debug/workloads': () => ({ component: `node agent ${s.node}`, workloads: workloadRows(s.store.workloads(), s.inputs.tls.trustDomain) }),
    '/debug/policies': () => ({ component: `node agent ${s.node}`, policies: policyRows(s.store.all('Authorization')) }),
    '/debug/certificates': () => ({ component: `node agent ${s.node}`, certificates: s.certs.held().map((c) => summarizeCertificate(c, s.roots())) }),
    '/debug/explain/outbound': (q) => explainOutbound(explain, q),
    '/debug/explain/inbound': (q) => explainInbound(explain, q),
  };
}

export async function serveAdmin(host: string, port: number, s: AdminSources, fd?: number): Promise<Server> {
  const routes = adminRoutes(s);
  const server = createServer((req, res) => {
    if (!answerReadOnly(req, res, routes)) notFound(res, routes);
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
