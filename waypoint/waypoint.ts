import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { PeerWorkloads, type StateView } from '../lib/model/index.js';
import { serviceLabelsOf } from '../lib/telemetry/istio-labels.js';
import type { Logger } from '../lib/telemetry/log.js';
import { WeftError } from '../lib/errors/index.js';
import { splitHostPort } from '../lib/host-port.js';
import type { Connector } from './transport/connector.js';
import { DryRunRecorder, namespaceOfPrincipal } from '../lib/authz/index.js';
import { realClock, type Clock } from '../lib/clock.js';
import { TapHub } from '../lib/tap/index.js';
import { Balancer } from './balance/balancer.js';
import { Forwarder, type ConnectionInfo } from './forward/forwarder.js';
import { Mirrors } from './forward/mirror.js';
import { H2Server } from './downstream/h2-server.js';
import { Http1Server } from './downstream/http1-server.js';
import { RetryBudgets } from './retry/budget.js';
import { Retrier } from './retry/retrier.js';
import { WaypointMetrics } from './metrics.js';
import { declaredProtocol, detect } from './downstream/protocol-detect.js';
import { StateIndex, type Gateway } from './route/state-index.js';
import { forwardTcp } from './tcp-forward.js';
import { UpstreamClients } from './upstream/clients.js';
import { DEFAULT_SNIFF_MS, DEFAULT_IDLE_TIMEOUT_MS } from './config.js';

// The waypoint without its transport: give it a tunnel stream plus what the tunnel said (`:authority`
// VIP:port, the peer's SPIFFE ID) and it serves that connection. hbone-inbound.ts feeds it from the HBONE
// server; tests feed it loopback TCP sockets.

export interface TunnelInfo {
  /** `:authority` of the CONNECT: the Service VIP and port the client addressed. */
  readonly authority: string;
  /** SPIFFE ID of the HBONE peer, i.e. the original client (its node agent uses the client's certificate). */
  readonly principal: string | undefined;
  /** Client IP from `forwarded: for=`, when present. */
  readonly sourceIp: string | undefined;
}

export interface WaypointOptions {
  readonly view: StateView;
  readonly gateway: Gateway;
  readonly connector: Connector;
  readonly registry: Registry;
  readonly log: Logger;
  readonly accessLog: Logger | null;
  /** This waypoint's own SPIFFE ID. */
  readonly identity: string | undefined;
  readonly sniffMs?: number;
  readonly idleTimeoutMs?: number;
  /** Time for deadlines, backoff, retry budgets and balancing; tests pass a fake one. Default: real time. */
  readonly clock?: Clock;
  /** Randomness for backend splits, P2C, backoff jitter and mirror sampling. Default: Math.random. */
  readonly random?: () => number;
}

export class Waypoint {
  readonly index: StateIndex;
  /** The requests `weft tap` streams (admin /debug/tap). */
  readonly tap: TapHub;
  private readonly clients: UpstreamClients;
  private readonly forwarder: Forwarder;
  private readonly h1: Http1Server<ConnectionInfo>;
  private readonly h2: H2Server<ConnectionInfo>;
  private readonly log: Logger;
  private readonly sniffMs: number;
  private readonly onChange: () => void;
  private readonly metrics: WaypointMetrics;
  private readonly peers: PeerWorkloads;

  constructor(private readonly o: WaypointOptions) {
    this.log = o.log.child({ component: 'waypoint' });
    const clock = o.clock ?? realClock;
    const random = o.random ?? Math.random;
    this.peers = new PeerWorkloads(o.view);
    this.index = new StateIndex(o.view, o.gateway, clock, this.peers);
    this.clients = new UpstreamClients(o.connector);
    const metrics = (this.metrics = new WaypointMetrics(o.registry));
    // The request path, bottom up: upstream clients ← balance ← retry (with timeouts) ← forward.
    const balancer = new Balancer(clock, random, metrics, this.log);
    const retrier = new Retrier({ clients: this.clients, balancer, budgets: new RetryBudgets(() => clock.now()), metrics, clock, random });
    const mirrors = new Mirrors(this.index, this.clients, clock, random);
    const dryRun = new DryRunRecorder(o.registry, this.log.child({ component: 'authz' }), 'waypoint');
    this.tap = new TapHub({ registry: o.registry });
    this.forwarder = new Forwarder({ index: this.index, retrier, mirrors, metrics, dryRun, log: this.log, accessLog: o.accessLog, tap: this.tap, identity: o.identity, clock, random });
    const idle = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.h1 = new Http1Server({ handler: this.forwarder, log: this.log, metrics, idleTimeoutMs: idle });
    this.h2 = new H2Server({ handler: this.forwarder, log: this.log, idleTimeoutMs: idle });
    this.sniffMs = o.sniffMs ?? DEFAULT_SNIFF_MS;
    // Connections to endpoints that left every Service are closed.
    this.onChange = () => this.clients.retain(this.index.endpointKeys());
    o.view.on('change', this.onChange);
  }

  /** Serves one tunnel. Never throws; an unknown destination closes the stream. */
  acceptTunnel(stream: Duplex, tunnel: TunnelInfo): void {
    const conn = this.connectionInfo(tunnel);
    if (conn instanceof WeftError) {
      stream.on('error', (err) => this.log.debug({ err: err.message }, 'tunnel stream error'));
      this.log.warn({ code: conn.code, authority: tunnel.authority }, conn.message);
      stream.destroy();
      return;
    }
    this.serveTunnel(stream, conn);
  }

  /** Serves one tunnel whose destination `resolve` already found (the HBONE server's authorize did). */
  serveTunnel(stream: Duplex, conn: ConnectionInfo): void {
    stream.on('error', (err) => this.log.debug({ err: err.message }, 'tunnel stream error'));
    detect(stream, conn.servicePort, this.sniffMs).then(
      (proto) => {
        if (stream.destroyed) return;
        if (proto === 'tcp') forwardTcp(stream, this.index.backend(conn.service.namespace, conn.service.name, conn.servicePort.port), this.o.connector, this.log);
        // Upstream speaks what the port declares; on an undeclared port, what the client spoke.
        else if (proto === 'h2') this.h2.accept(stream, declaredProtocol(conn.servicePort) === undefined ? { ...conn, upstream: 'h2' } : conn);
        else this.h1.accept(stream, conn);
      },
      (err: unknown) => {
        this.log.debug({ err }, 'protocol detection failed');
        stream.destroy();
      },
    );
  }

  /** Checks a tunnel's destination before any byte is read (for the HBONE server to refuse with 503). */
  resolve(tunnel: TunnelInfo): ConnectionInfo | WeftError {
    return this.connectionInfo(tunnel);
  }

  private connectionInfo(t: TunnelInfo): ConnectionInfo | WeftError {
    const a = splitHostPort(t.authority);
    const found = a && this.index.serviceFor(a.host, a.port);
    if (!found) return new WeftError('ERR_WEFT_WAYPOINT_NO_SERVICE', { destination: t.authority });
    const { service, port } = found;
    // The client's owning workload from its verified identity and forwarded IP (never a pod name).
    const src = this.peers.resolve(t.principal, t.sourceIp);
    const sourceWorkload = `${src.namespace}/${src.workload}`;
    const serviceLabel = `${service.namespace}/${service.name}`;
    return {
      service,
      servicePort: port,
      principal: t.principal,
      clientNamespace: namespaceOfPrincipal(t.principal),
      sourceIp: t.sourceIp,
      sourceWorkload,
      serviceLabel,
      upstream: declaredProtocol(port) === 'h2' ? 'h2' : 'http1',
      policies: this.index.policies(service),
      metrics: this.metrics.scope(src, t.principal, serviceLabelsOf(service)),
    };
  }

  dump(): unknown {
    return this.index.dump();
  }

  close(): void {
    this.o.view.off('change', this.onChange);
    this.h1.close();
    this.h2.close();
    this.clients.close();
    this.index.close();
  }
}
