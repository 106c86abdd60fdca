#!/usr/bin/env node
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WeftError, isWeftError } from '../lib/errors/index.js';
import { createLogger, type Logger } from '../lib/telemetry/log.js';
import { createRegistry, serveMetrics } from '../lib/telemetry/metrics.js';
import { boundPort, serveHealth } from '../lib/telemetry/http-endpoints.js';
import type { CertificateAuthority } from '../lib/identity/index.js';
import { DirectorySource } from './sources/files.js';
import type { ClusterSource } from './sources/source.js';
import { DirectoryCaBackend, SecretCaBackend, loadOrCreateCa, readProvidedCa, type CaBackend } from './ca-store.js';
import { AlwaysLeader, LeaseLeaderElector, type LeaderElection } from './leader.js';
import { CaRootPublisher } from './ca-root-configmap.js';
import { CaReloader } from './ca-reload.js';
import { registerCaExpiryMetrics, warnIfCaExpiresBeforeLeafLifetime } from './ca-expiry-metrics.js';
import type { KubeApi } from './sources/kube-api.js';
import { Compiler } from './discovery/compile.js';
import { WatchService } from './discovery/watch-service.js';
import { CertifyService } from './identity/certify-service.js';
import { JwtTokenVerifier, TokenReviewVerifier, type Jwks, type TokenVerifier } from './identity/tokens.js';
import { startControlServer, type ControlServer } from './grpc-server.js';
import { StatusController } from './status/controller.js';
import { WaypointController } from './waypoints/controller.js';
import { controlAddressIn } from './waypoints/objects.js';
import { parseControlArgs, type ControlConfig } from './config.js';
import { parseHostPort } from '../lib/host-port.js';

// libuv's pool (4 threads by default) runs WebCrypto (token checks; CSR checks and signing moved to
// node:crypto on the calling thread) and the directory source's file I/O; with 10 000 manifests a rescan
// once queued Certify behind thousands of stats (bench/control-scale: 14 → 46 certificates/s on a loaded
// 2-core machine with 32 threads). Only effective before the pool's first use, hence first in the module
// body; an explicit setting wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

// weft-control: wires the cluster-state source, the CA, the identity and discovery services on one
// TLS gRPC port, metrics (15020) and readiness (15021, ready only once the source has synced, the CA is
// loaded and gRPC listens). SIGTERM: not ready, end watch streams, drain gRPC, stop the source.

export interface ControlProcess {
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** The signing CA now (it changes when a root rotation switches the signer). */
  readonly ca: CertificateAuthority;
  readonly source: ClusterSource;
  readonly watch: WatchService;
  close(): Promise<void>;
}

/** Rejects every token: directory mode without --token-public-key serves discovery-less playgrounds. */
class NoKeyVerifier implements TokenVerifier {
  verify(): Promise<never> {
    return Promise.reject(new WeftError('ERR_WEFT_CONTROL_TOKEN_INVALID', { reason: 'weft-control runs without --token-public-key, so it trusts no token' }));
  }
}

async function loadJwtVerifier(file: string): Promise<TokenVerifier> {
  const text = await readFile(file, 'utf8');
  const publicKeys = text.trimStart().startsWith('{') ? (JSON.parse(text) as Jwks) : text;
  return new JwtTokenVerifier({ publicKeys, audience: 'weft' });
}

export async function startControl(config: ControlConfig, log: Logger): Promise<ControlProcess> {
  const registry = createRegistry();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err }, 'shutdown step failed');
      }
    }
  };
  let ready = false;
  try {
    const health = await serveHealth(parseHostPort(config.healthAddress, '--health-address'), () => (ready ? undefined : ''));
    cleanups.push(() => new Promise<void>((r) => health.close(() => r())));
    const healthPort = boundPort(health);
    const metrics = await serveMetrics(registry, parseHostPort(config.metricsAddress, '--metrics-address'));
    cleanups.push(() => new Promise<void>((r) => metrics.close(() => r())));
    const metricsPort = boundPort(metrics);

    // Source, CA backend, token verifier and leader election per mode.
    let source: ClusterSource;
    let backend: CaBackend;
    let verifier: TokenVerifier;
    let leader: LeaderElection;
    let kubeApi: KubeApi | undefined;
    if (config.source.type === 'dir') {
      const dir = path.resolve(config.source.dir);
      source = new DirectorySource({ dir, logger: log });
      backend = new DirectoryCaBackend(config.caDir ?? path.join(dir, '..', 'control-ca'));
      verifier = config.tokenPublicKey ? await loadJwtVerifier(config.tokenPublicKey) : new NoKeyVerifier();
      if (!config.tokenPublicKey) log.warn('no --token-public-key: every Certify and Watch call will be refused');
      leader = new AlwaysLeader();
    } else {
      // Loaded only here: @kubernetes/client-node is ~25 MB of heap (sources and code) that directory mode
      // (the lab, bench/control-scale) does not need.
      const { KubeSource } = await import('./sources/kube.js');
      // ConfigMaps only in its own namespace: the waypoint GatewayClass's parameters are there.
      const kube = new KubeSource({ logger: log, namespaces: { ConfigMap: config.namespace } });
      source = kube;
      kubeApi = kube.api;
      backend = new SecretCaBackend(kube.api, config.namespace);
      verifier = config.tokenPublicKey ? await loadJwtVerifier(config.tokenPublicKey) : new TokenReviewVerifier((t, aud) => kube.tokenReview(t, aud));
      leader = new LeaseLeaderElector({ api: kube.api, namespace: config.namespace, identity: `${process.env.POD_NAME ?? hostname()}-${randomBytes(3).toString('hex')}`, logger: log });
    }
    source.on('invalid', (info) => log.warn({ ref: info.ref, file: info.file, reason: info.reason }, 'invalid object skipped'));

    const provided = config.caCert && config.caKey ? await readProvidedCa(config.caCert, config.caKey) : undefined;
    const loaded = await loadOrCreateCa({ backend, trustDomain: config.trustDomain, provided, leafLifetimeSeconds: config.leafLifetimeSeconds, logger: log });
    let ca = loaded.ca;
    log.info({ origin: loaded.origin, created: loaded.created, roots: loaded.rootsPem.length, leafLifetimeSeconds: ca.leafLifetimeSeconds }, 'CA loaded');
    registerCaExpiryMetrics(registry, () => ca);
    warnIfCaExpiresBeforeLeafLifetime(ca, log);

    const compiler = new Compiler(source, { trustDomain: config.trustDomain, endpoints: config.source.type === 'dir' ? 'selectors' : 'endpointslices', mtlsModeDefault: config.mtlsModeDefault });
    const watch = new WatchService({ source, compiler, verifier, controlNamespace: config.namespace, debounceMs: config.debounceMs, logger: log, registry });
    watch.setTrustBundle({ trustDomain: config.trustDomain, roots: loaded.rootsPem });
    const certify = new CertifyService({ ca: () => ca, verifier, source, controlNamespace: config.namespace, logger: log, registry, rateLimit: config.certifyRateLimit });

    const started = Date.now();
    await source.start();
    cleanups.push(() => source.stop());
    watch.start();
    log.info({ source: source.type, ms: Date.now() - started }, 'cluster state synced');

    const listenHost = parseHostPort(config.listen, '--listen').host;
    const names = [...config.servingSans, ...(listenHost !== '0.0.0.0' && listenHost !== '::' ? [listenHost] : [])];
    const server: ControlServer = await startControlServer({ listen: config.listen, ca, namespace: config.namespace, names, certify, watch });
    cleanups.push(() => server.close(5_000));
    cleanups.push(() => watch.close()); // runs before server.close: ends streams so the drain finishes

    // Controllers that write cluster state act only while this replica leads; every replica serves gRPC.
    const status = new StatusController({ source, leader, logger: log });
    const waypoints = new WaypointController({
      source,
      leader,
      logger: log,
      controlNamespace: config.namespace,
      controlAddress: config.waypointControlAddress ?? controlAddressIn(config.namespace),
      image: config.waypointImage,
      replicas: config.waypointReplicas,
      propagation: watch,
    });
    status.start();
    waypoints.start();
    let caRoot: CaRootPublisher | undefined;
    if (kubeApi !== undefined) {
      // Cluster mode: the trust root data planes mount as --ca-root (ConfigMap weft-ca-root).
      const publisher = new CaRootPublisher({ api: kubeApi, source, leader, namespace: config.namespace, rootsPem: loaded.rootsPem, logger: log });
      caRoot = publisher;
      publisher.start();
      cleanups.push(() => publisher.stop());
    }
    // Root rotation (docs/rotation.md): a changed CA store reaches the signer, the serving certificate,
    // the pushed trust bundle and the ConfigMap without a restart.
    const reloader = new CaReloader({
      backend,
      trustDomain: config.trustDomain,
      leafLifetimeSeconds: config.leafLifetimeSeconds,
      initial: loaded.material,
      intervalMs: config.caReloadMs,
      logger: log,
      apply: async (next) => {
        watch.setTrustBundle({ trustDomain: config.trustDomain, roots: next.rootsPem });
        caRoot?.setRoots(next.rootsPem);
        if (next.ca.certPem !== ca.certPem) {
          await server.setCa(next.ca);
          warnIfCaExpiresBeforeLeafLifetime(next.ca, log);
        }
        ca = next.ca;
      },
    });
    reloader.start();
    cleanups.push(() => reloader.stop());
    leader.start();
    cleanups.push(() => leader.stop({ release: true }));
    cleanups.push(() => waypoints.stop());
    cleanups.push(() => status.stop());
    leader.on('leader', () => log.info({ identity: leader.identity }, 'leading: writing status and waypoint objects'));

    ready = true;
    log.info({ grpcPort: server.port, metricsPort, healthPort }, 'weft-control ready');
    return {
      grpcPort: server.port,
      metricsPort,
      healthPort,
      get ca() {
        return ca;
      },
      source,
      watch,
      close: async () => {
        ready = false;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function main(): Promise<void> {
  let config: ControlConfig;
  try {
    config = await parseControlArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`weft-control: ${(err as Error).message}${isWeftError(err) ? `\n  hint: ${err.hint}` : ''}`);
    process.exit(2);
  }
  const log = createLogger({ name: 'weft-control', level: config.logLevel });
  let proc: ControlProcess;
  try {
    proc = await startControl(config, log);
  } catch (err) {
    log.fatal({ err, code: isWeftError(err) ? err.code : undefined, hint: isWeftError(err) ? err.hint : undefined }, 'weft-control failed to start');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    proc.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
