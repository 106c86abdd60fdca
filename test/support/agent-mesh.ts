import 'reflect-metadata';
import type { Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { LocalCertifier, type CertificateAuthority } from '../../lib/identity/index.js';
import { StateStore } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane, type DataplaneOptions } from '../../node-agent/dataplane.js';
import { installCapture } from '../../node-agent/enroll/capture.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { eventually } from './eventually.js';
import { NetnsSandbox, type PodNet } from './netns.js';
import { mintCa } from './pki.js';

/** The JSON lines an access logger wrote, parsed, for assertions. */
export class AccessLines {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger = pino(
    new Writable({
      write: (chunk: Buffer, _e, cb) => {
        for (const l of chunk.toString().split('\n')) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );

  clear(): void {
    this.lines.length = 0;
  }

  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(pred);
  }

  /** A line is written when its connection closes, which can be after the client saw its end: wait for it. */
  waitFor(pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return eventually(() => this.lines.find(pred), timeoutMs, what);
  }
}

/**
 * The in-process node agent of the component tests: pods in a NetnsSandbox, a fresh CA, a StateStore the
 * test fills with workloads and policies, the real data plane (createDataplane) with its access log
 * collected in `access`, apps listening in pods, and pods enrolled (a PodProxy plus real nftables capture).
 * `close()` undoes everything (call it from afterAll; it is safe after a failed setup).
 */
export class AgentMesh {
  readonly sb = new NetnsSandbox();
  readonly store = new StateStore();
  readonly access = new AccessLines();
  readonly registry: Registry = createRegistry({ defaultMetrics: false });
  ca!: CertificateAuthority;
  dp: Dataplane | undefined;
  private readonly proxies: PodProxy[] = [];
  private readonly servers: Server[] = [];

  /** Creates the sandbox and one pod namespace per name (in order), and mints the CA. */
  async up(...names: string[]): Promise<PodNet[]> {
    await this.sb.up();
    const pods: PodNet[] = [];
    for (const n of names) pods.push(await this.sb.pod(n));
    this.ca = await mintCa();
    return pods;
  }

  /** The data plane over `store`, certificates from the local CA; options override the defaults. */
  startDataplane(options: Partial<DataplaneOptions> = {}): Dataplane {
    this.dp = createDataplane({
      view: this.store,
      certifier: new LocalCertifier(this.ca),
      trustDomain: 'cluster.local',
      fallbackRoots: this.ca.rootsPem,
      registry: this.registry,
      log: silentLogger,
      accessLog: this.access.logger,
      ...options,
    });
    return this.dp;
  }

  /** An app on `port` in the pod: greets with `peer=<source ip>` (unless `greet` is false), then echoes. */
  async app(pod: PodNet, options: { port?: number; greet?: boolean } = {}): Promise<Server> {
    const app = await new NetnsSocketFactory(pod.path, 0).listen('0.0.0.0', options.port ?? 8080);
    app.on('connection', (s: Socket) => {
      s.on('error', () => undefined);
      if (options.greet !== false) s.write(`peer=${s.remoteAddress}\n`);
      s.pipe(s);
    });
    this.servers.push(app);
    return app;
  }

  /** Enrolls the pod as workload uid-<name> of namespace shop: its proxy listeners and its capture rules. */
  async enroll(pod: PodNet, name: string): Promise<PodProxy> {
    if (!this.dp) throw new Error('AgentMesh.startDataplane() first');
    const proxy = new PodProxy(this.dp.inputs, { uid: `uid-${name}`, namespace: 'shop', name, ips: [pod.ip] }, new NetnsSocketFactory(pod.path));
    await proxy.start();
    this.proxies.push(proxy);
    await installCapture({ netns: pod.path, probeSources: [this.sb.gateway] }, name);
    return proxy;
  }

  async close(): Promise<void> {
    for (const p of this.proxies) p.stop();
    for (const s of this.servers) s.close();
    this.dp?.close();
    await this.sb.destroy();
  }
}
