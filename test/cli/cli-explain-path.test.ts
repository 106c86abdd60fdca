// Pins how `weft explain` walks a path (cli/admin/explain-path.ts): whom it asks, in which order, and the
// verdict it words, against the real decision code of the node agent (node-agent/admin/explain.ts over a
// real dataplane: routeOutbound and lib/authz) and of the waypoint (waypoint/explain.ts over a real
// StateIndex) on one state. Only the HTTP hop between the CLI and the admin port is left out (the E2E test
// runs it). Failures it guards: a waypoint DENY reported as allowed, the destination asked with the
// source's identity when the waypoint's reaches it, an L4 DENY not attributed to the destination's node,
// a pod outside the mesh explained as if its connection were tunnelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminComponent } from '../../cli/admin/admin-target.js';
import { explainPath, type AskComponent, type Explanation } from '../../cli/admin/explain-path.js';
import { explainRows } from '../../cli/admin/explain-table.js';
import { LocalCertifier } from '../../lib/identity/index.js';
import { AuthorizationPolicySchema, RouteSchema, ServiceSchema, StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { explainInbound, explainOutbound } from '../../node-agent/admin/explain.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { explainRequest } from '../../waypoint/explain.js';
import { StateIndex } from '../../waypoint/route/state-index.js';
import { mintCa } from '../support/pki.js';

const WP = { namespace: 'ex', name: 'waypoint', address: '10.244.1.9', identity: 'spiffe://cluster.local/ns/ex/sa/waypoint' };
const workload = (name: string, ip: string, node: string, captured = true) =>
  WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'ex', serviceAccount: name, node, ips: [ip], labels: { app: name }, captured });

describe('weft explain: the path through the components and its verdict', () => {
  const store = new StateStore();
  let dp: Dataplane;
  let index: StateIndex;
  let enrolled = new Set(['ex/client']);
  const asked: string[] = [];

  beforeAll(async () => {
    const ca = await mintCa();
    store.apply([
      { kind: 'Workload', version: '1', upserts: [workload('client', '10.244.1.2', 'n1'), workload('web', '10.244.2.2', 'n2'), workload('db', '10.244.2.3', 'n2'), workload('legacy', '10.244.2.4', 'n2', false)], removes: [], replace: true },
      {
        kind: 'Service',
        version: '1',
        upserts: [
          ServiceSchema.parse({ namespace: 'ex', name: 'web', vips: ['10.96.0.10'], ports: [{ port: 80, targetPort: 8080 }], endpoints: [{ workloadUid: 'uid-web', address: '10.244.2.2' }], waypoint: WP }),
          ServiceSchema.parse({ namespace: 'ex', name: 'db', vips: ['10.96.0.11'], ports: [{ port: 80, targetPort: 8080 }], endpoints: [{ workloadUid: 'uid-db', address: '10.244.2.3' }] }),
          ServiceSchema.parse({ namespace: 'ex', name: 'legacy', vips: ['10.96.0.12'], ports: [{ port: 80, targetPort: 8080 }], endpoints: [{ workloadUid: 'uid-legacy', address: '10.244.2.4' }] }),
        ],
        removes: [],
        replace: true,
      },
      {
        kind: 'Authorization',
        version: '1',
        upserts: [
          AuthorizationPolicySchema.parse({ namespace: 'ex', name: 'no-admin-posts', targets: [{ kind: 'service', name: 'web' }], action: 'DENY', rules: [{ to: [{ methods: ['POST'], paths: ['/admin*'] }] }] }),
          AuthorizationPolicySchema.parse({ namespace: 'ex', name: 'client-not-to-db', targets: [{ kind: 'selector', matchLabels: { app: 'db' } }], action: 'DENY', rules: [{ from: [{ principals: ['ns/ex/sa/client'] }] }] }),
        ],
        removes: [],
        replace: true,
      },
      {
        kind: 'RouteTable',
        version: '1',
        upserts: [{ namespace: 'ex', name: 'waypoint', routes: [RouteSchema.parse({ kind: 'HTTPRoute', namespace: 'ex', name: 'web', parents: [{ namespace: 'ex', name: 'web', port: 80 }], rules: [{ backendRefs: [{ service: { namespace: 'ex', name: 'web' }, port: 80 }] }] })] }],
        removes: [],
        replace: true,
      },
    ]);
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: silentLogger });
    index = new StateIndex(store, { namespace: 'ex', name: 'waypoint' });
  });

  afterAll(() => {
    index.close();
    dp.close();
  });

  // The agents of both nodes share this one state; what differs between them is only the node they name.
  const ask: AskComponent = <T>(c: AdminComponent, path: string, query: Readonly<Record<string, string | number | undefined>>): Promise<T> => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    asked.push(`${c.kind === 'agent' ? c.node : `${c.namespace}/${c.name}`} ${path}`);
    if (c.kind === 'waypoint') return Promise.resolve(explainRequest(index, store, WP.identity, q) as T);
    const sources = { inputs: dp.inputs, node: c.node, enrolled: () => enrolled };
    return Promise.resolve((path === '/debug/explain/outbound' ? explainOutbound(sources, q) : explainInbound(sources, q)) as T);
  };
  const explain = async (host: string, method = 'GET', path = '/'): Promise<Explanation> => {
    asked.length = 0;
    return explainPath({ pod: 'ex/client', node: 'n1', host, port: 80, method, path }, ask);
  };

  it('a waypoint DENY stops the path there: the waypoint named, the destination not asked', async () => {
    const e = await explain('web.ex', 'POST', '/admin/x');
    expect(asked).toEqual(['n1 /debug/explain/outbound', 'ex/waypoint /debug/explain']);
    expect(e.verdict).toMatchObject({ outcome: 'DENY', policy: 'ex/no-admin-posts', at: 'waypoint ex/waypoint' });
    expect(e.verdict.summary).toContain('403');
    expect(explainRows(e).at(-1)).toEqual(['verdict', expect.stringMatching(/^DENY \(ex\/no-admin-posts\): denied at waypoint ex\/waypoint by ex\/no-admin-posts rule 0/)]);
  });

  it("an allowed request through the waypoint: its route and backend, then the destination asked with the waypoint's identity", async () => {
    const e = await explain('web.ex.svc.cluster.local');
    expect(asked).toEqual(['n1 /debug/explain/outbound', 'ex/waypoint /debug/explain', 'n2 /debug/explain/inbound']);
    expect(e.waypoint?.route).toMatchObject({ kind: 'route', name: 'ex/web', rule: 0 });
    expect(e.hops).toHaveLength(1);
    expect(e.hops[0]).toMatchObject({ endpoint: '10.244.2.2:8080', peer: WP.identity });
    expect(e.verdict.outcome).toBe('ALLOW');
  });

  it("an L4 DENY is the destination node agent's, asked with the source's identity", async () => {
    const e = await explain('10.96.0.11');
    expect(asked).toEqual(['n1 /debug/explain/outbound', 'n2 /debug/explain/inbound']);
    expect(e.route).toMatchObject({ kind: 'hbone', via: 'direct', nextHop: '10.244.2.3' });
    expect(e.hops[0]?.peer).toBe('spiffe://cluster.local/ns/ex/sa/client');
    expect(e.verdict).toMatchObject({ outcome: 'DENY', policy: 'ex/client-not-to-db', at: 'node agent n2 (ex/db)' });
  });

  it('a destination outside the mesh: pass-through in plaintext, nothing enforced there', async () => {
    const e = await explain('legacy');
    expect(e.route).toEqual({ kind: 'passthrough', address: '10.244.2.4', port: 8080 });
    expect(e.hops).toHaveLength(1);
    expect(e.hops[0]).toMatchObject({ endpoint: '10.244.2.4:8080', workload: { name: 'legacy', captured: false }, peer: undefined, inbound: undefined });
    expect(e.verdict.outcome).toBe('ALLOW');
  });

  it('a source the agent has not enrolled connects in plaintext: the destination sees no identity', async () => {
    enrolled = new Set();
    try {
      const e = await explain('db.ex');
      expect(e.source).toMatchObject({ captured: true, enrolled: false });
      expect(e.hops[0]?.peer).toBeUndefined();
      // No principal: the DENY for the client's identity does not match a plaintext peer.
      expect(e.verdict.outcome).toBe('ALLOW');
      expect(e.verdict.summary).toContain('outside the mesh');
    } finally {
      enrolled = new Set(['ex/client']);
    }
  });

  it('an unknown source pod or host is the agent’s refusal, by code', async () => {
    await expect(explainPath({ pod: 'ex/nobody', node: 'n1', host: 'web.ex', port: 80, method: 'GET', path: '/' }, ask)).rejects.toMatchObject({ code: 'ERR_WEFT_ADMIN_UNKNOWN_POD' });
    await expect(explain('nothing.ex')).rejects.toMatchObject({ code: 'ERR_WEFT_ADMIN_UNKNOWN_HOST' });
  });
});
