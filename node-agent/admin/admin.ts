import { createServer, type Server } from 'node:http';
import { answerReadOnly, notFound, policyRows, workloadRows, type ReadOnlyRoutes } from '../../lib/admin/index.js';
import { listenHttp, type ListenAt } from '../../lib/telemetry/http-endpoints.js';
import type { StateStore } from '../../lib/model/index.js';
import type { Enrollments } from '../enroll/enrollments.js';
import type { ProxyInputs } from '../proxy/inputs.js';
import { answerTap, type TapHub } from '../../lib/tap/index.js';
import { summarizeCertificate, type CertificateManager } from '../../lib/identity/index.js';
import { explainInbound, explainOutbound, type ExplainSources } from './explain.js';

export interface AdminSources {
  readonly store: StateStore;
  readonly enrollments: Enrollments;
  readonly inputs: ProxyInputs;
  readonly certs: CertificateManager;
  /** The stream of /debug/tap (`weft tap`, `weft top`). */
  readonly tap: TapHub;
  /** This agent's node (answers name it). */
  readonly node: string;
  /** The roots the agent's certificates chain to (the pushed trust bundle, else the local CA's). */
  roots(): readonly string[];
  readonly config: unknown;
}

/**
 * Admin endpoints (15000, loopback by default): what the agent believes and what it is doing, read-only.
 * `weft get` and `weft explain` read /debug/workloads, /debug/policies, /debug/certificates, /config_dump
 * and /debug/explain/{outbound,inbound}; `weft tap` streams /debug/tap (lib/tap/tap-endpoint.ts).
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

export async function serveAdmin(at: ListenAt, s: AdminSources): Promise<Server> {
  const routes = adminRoutes(s);
  const component = `node agent ${s.node}`;
  const server = createServer((req, res) => {
    if (answerTap(req, res, s.tap, component)) return;
    if (!answerReadOnly(req, res, routes)) notFound(res, routes);
  });
  await listenHttp(server, at);
  return server;
}
