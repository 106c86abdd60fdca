import type { Registry } from 'prom-client';
import type { Logger } from '../lib/telemetry/log.js';
import { HbonePool } from '../lib/hbone/index.js';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId, followTrustBundle, summarizeCertificate, type CertificateSummary, type Certifier, type WorkloadCertificate } from '../lib/identity/index.js';
import type { StateView } from '../lib/model/index.js';
import type { ControlRoots } from '../lib/control-client/control-roots.js';
import type { Connector } from './transport/connector.js';
import { HboneConnector } from './transport/hbone-connector.js';
import { createHboneInbound } from './hbone-inbound.js';
import type { Waypoint } from './waypoint.js';

// The waypoint's mesh transport: its own certificate (from a local CA or the control plane), the HBONE
// server for inbound tunnels and the HBONE pool for upstream ones. Trust roots come from the discovered
// trust bundle when there is one, else from the CA material given at start.

export type MeshOptions = {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly log: Logger;
  readonly registry: Registry;
  readonly view: StateView;
  readonly upstreamPort?: number;
  /** Inbound HBONE sessions with no open stream are closed after this long (default 5 min). */
  readonly sessionIdleMs?: number;
} & ({ readonly mode: 'local'; readonly caCertPem: string; readonly caKeyPem: string } | { readonly mode: 'control'; readonly address: string; readonly caRootPem: string; readonly roots?: ControlRoots; readonly tokenFile: string });

export interface MeshTransport {
  readonly connector: Connector;
  /** The certificates the waypoint holds, summarised for the admin endpoint (no key material). */
  certificates(): CertificateSummary[];
  /** Starts the HBONE listener; returns its closer. */
  serveInbound(address: string, waypoint: Waypoint): Promise<() => void>;
}

export async function startMeshTransport(o: MeshOptions): Promise<MeshTransport> {
  let certifier: Certifier;
  let fallbackRoots: string[];
  if (o.mode === 'local') {
    const ca = await CertificateAuthority.load({ certChainPem: o.caCertPem, keyPem: o.caKeyPem });
    certifier = new LocalCertifier(ca);
    fallbackRoots = ca.rootsPem;
  } else {
    const { ControlCertifier } = await import('../lib/control-client/certifier.js');
    certifier = new ControlCertifier({ address: o.address, caRootPem: o.caRootPem, roots: o.roots, tokenFile: o.tokenFile });
    fallbackRoots = [o.caRootPem];
  }
  const identity = SpiffeId.of(o.trustDomain, o.namespace, o.serviceAccount);
  const certs = new CertificateManager({ certifier, registry: o.registry, logger: o.log });
  const certificate = (): Promise<WorkloadCertificate> => certs.get(identity);
  const trustRoots = (): readonly string[] => o.view.trustBundle()?.roots ?? fallbackRoots;
  const first = await certificate();
  const pool = new HbonePool({ logger: o.log, registry: o.registry });
  const connector = new HboneConnector({ pool, source: identity, certificate, trustRoots, port: o.upstreamPort });
  // Root rotation (docs/rotation.md): new roots reach the inbound server and the upstream pool at once,
  // and a certificate under a previous signing root is renewed.
  let inbound: ReturnType<typeof createHboneInbound> | undefined;
  const unfollow = followTrustBundle({
    view: o.view,
    fallbackRoots,
    certs,
    registry: o.registry,
    logger: o.log,
    onRoots: (roots) => {
      inbound?.setTrustRoots(roots);
      return pool.closeUntrusted(roots);
    },
  });
  return {
    connector,
    certificates: () => certs.held().map((c) => summarizeCertificate(c, trustRoots())),
    async serveInbound(address, waypoint) {
      const colon = address.lastIndexOf(':');
      const port = Number(address.slice(colon + 1));
      const server = createHboneInbound({ waypoint, certificate: first, trustRoots: trustRoots(), log: o.log, registry: o.registry, listenPort: port, sessionIdleMs: o.sessionIdleMs });
      inbound = server;
      certs.on('renewed', (c: WorkloadCertificate) => server.setCertificate(c));
      await server.listen(port, address.slice(0, colon).replace(/^\[|\]$/g, ''));
      return () => {
        unfollow();
        void server.close();
        void pool.close();
        certs.close();
      };
    },
  };
}
