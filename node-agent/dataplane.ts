import { WeftError } from '../lib/errors/index.js';
import type { Registry } from 'prom-client';
import { AuthzPolicies, DryRunRecorder } from '../lib/authz/index.js';
import { CertificateManager, followTrustBundle, type Certifier } from '../lib/identity/index.js';
import { PeerWorkloads, type StateView, type ResourceKind } from '../lib/model/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import { TapHub } from '../lib/tap/index.js';
import { DEFAULTS } from './config.js';
import { ConnectionLimits } from './proxy/connection-limits.js';
import { Connections } from './proxy/connections.js';
import { EndpointServices } from './proxy/endpoint-services.js';
import { WaypointReplicaEviction } from './proxy/waypoint-hops.js';
import { HbonePools } from './proxy/hbone-pools.js';
import type { ProxyInputs } from './proxy/inputs.js';
import { StrictMtls, unauthenticated } from './proxy/strict-mtls.js';
import { PeakEwmaBalancer } from './proxy/p2c.js';
import type { ReadyGate } from './proxy/ready-gate.js';
import { WorkloadTls } from './proxy/workload-tls.js';

export interface DataplaneOptions {
  readonly view: StateView;
  readonly certifier: Certifier;
  readonly trustDomain: string;
  /** Roots when the state carries no TrustBundle (local mode: the local CA's). */
  readonly fallbackRoots?: readonly string[];
  readonly registry: Registry;
  readonly log: Logger;
  readonly accessLog: Logger;
  /** Holds connections on (re-created) pod listeners until the agent is ready. */
  readonly gate?: ReadyGate;
  /** Connection bounds per pod and per source (default: config.ts DEFAULTS). */
  readonly limits?: { readonly perPod: number; readonly perSource: number };
  /** Window over which certificates are renewed after the signing root changed (default 10 s). */
  readonly rootSwitchRenewSpreadMs?: number;
  /** Idle time after which pods' HBONE servers close sessions without streams (default 5 min). */
  readonly hboneSessionIdleMs?: number;
}

export interface Dataplane {
  readonly inputs: ProxyInputs;
  readonly certs: CertificateManager;
  /** The connections `weft tap` streams (admin /debug/tap). */
  readonly tap: TapHub;
  close(): void;
}

/**
 * Wires the shared parts of the L4 data plane: certificates, the per-pod HBONE pools, the
 * balancer and the connection registry — and re-authorises live inbound connections whenever
 * policies or workloads change, closing the ones the new policy denies.
 */
export function createDataplane(o: DataplaneOptions): Dataplane {
  const certs = new CertificateManager({ certifier: o.certifier, registry: o.registry, logger: o.log });
  certs.on('error', (identity: unknown, err: unknown) => o.log.warn({ identity: String(identity), err }, 'certificate request failed'));
  let rootsCache: { src: unknown; roots: readonly string[] } = { src: undefined, roots: o.fallbackRoots ?? [] };
  const roots = (): readonly string[] => {
    const tb = o.view.trustBundle();
    if (!tb) return o.fallbackRoots ?? [];
    if (rootsCache.src !== tb) rootsCache = { src: tb, roots: tb.roots };
    return rootsCache.roots;
  };
  const tls = new WorkloadTls(certs, roots, o.trustDomain);
  const log = o.log.child({ component: 'proxy' });
  const tap = new TapHub({ registry: o.registry });
  const inputs: ProxyInputs = {
    view: o.view,
    tls,
    pool: new HbonePools(log.child({ component: 'proxy.pool' })),
    balancer: new PeakEwmaBalancer(),
    authz: new AuthzPolicies(o.view, () => o.trustDomain),
    dryRun: new DryRunRecorder(o.registry, o.accessLog, 'destination'),
    connections: new Connections(o.registry, o.accessLog, tap),
    peers: new PeerWorkloads(o.view),
    endpointServices: new EndpointServices(o.view),
    limits: new ConnectionLimits({
      perPod: o.limits?.perPod ?? DEFAULTS.maxConnectionsPerPod,
      perSource: o.limits?.perSource ?? DEFAULTS.maxConnectionsPerSource,
      registry: o.registry,
      log: log.child({ component: 'proxy.limits' }),
    }),
    log,
    gate: o.gate,
    hboneServer: { sessionIdleMs: o.hboneSessionIdleMs, registry: o.registry },
    strictMtls: new StrictMtls(o.registry),
  };
  const eviction = new WaypointReplicaEviction(o.view, (host) => inputs.pool.closeTo(host), log.child({ component: 'proxy.waypoints' }));
  const onChange = (kinds: ReadonlySet<ResourceKind>): void => {
    if (kinds.has('Service')) eviction.update();
    if (!kinds.has('Authorization') && !kinds.has('Workload') && !kinds.has('Service')) return;
    const n = inputs.connections.closeWhere((c) => {
      const i = c.info;
      if (i.reporter !== 'destination') return undefined;
      const dst = o.view.workloadByUid(i.podUid);
      if (!dst) return undefined;
      if (i.direction === 'inbound-plain' && dst.mtlsMode === 'strict') {
        return { err: unauthenticated(i) };
      }
      const d = inputs.authz.forWorkload(dst).authorizeL4({
        principal: i.srcIdentity === 'unknown' ? undefined : i.srcIdentity,
        sourceIp: i.srcIp,
        port: i.dstPort,
      });
      if (d.allowed) return undefined;
      i.authz = d; // the close's tap event and log line name the policy that now denies it
      return { err: new WeftError('ERR_WEFT_AGENT_POLICY_CHANGED', { source: i.srcIdentity, destination: i.dstIdentity, reason: d.reason }), policy: d.policy };
    });
    if (n > 0) log.info({ closed: n }, 'closed connections denied by the new policy');
  };
  o.view.on('change', onChange);
  // Root rotation (docs/rotation.md): new roots reach pods' servers and pools at once, and certificates
  // under a previous signing root are renewed.
  const unfollow = followTrustBundle({
    view: o.view,
    fallbackRoots: o.fallbackRoots,
    certs,
    registry: o.registry,
    logger: o.log,
    renewSpreadMs: o.rootSwitchRenewSpreadMs,
    onRoots: (roots) => {
      tls.emit('roots', roots);
      return inputs.pool.closeUntrusted(roots);
    },
  });
  return {
    inputs,
    certs,
    tap,
    close: () => {
      o.view.off('change', onChange);
      unfollow();
      inputs.pool.close();
      certs.close();
    },
  };
}
