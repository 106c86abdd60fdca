// The node agent proper; loaded by main.ts once the early pod listeners are open.
import 'reflect-metadata';
import type { Server } from 'node:http';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Gauge } from 'prom-client';
import { isWeftError } from '../lib/errors/index.js';
import { CertificateAuthority, LocalCertifier, SpiffeId, type Certifier } from '../lib/identity/index.js';
import { StateStore } from '../lib/model/index.js';
import { createLogger } from '../lib/telemetry/log.js';
import { createRegistry, serveMetrics } from '../lib/telemetry/metrics.js';
import { ControlCertifier } from '../lib/control-client/certifier.js';
import { DiscoveryClient } from '../lib/control-client/discovery-client.js';
import { ControlRoots } from '../lib/control-client/control-roots.js';
import { serveAdmin } from './admin/admin.js';
import { serveHealth } from '../lib/telemetry/http-endpoints.js';
import { DEFAULTS, ENV_DRAIN_MS, ENV_HBONE_SESSION_IDLE_MS, ENV_HOST_PROC, connectionLimitsFrom, splitAddress, type AgentConfig } from './config.js';
import { createDataplane } from './dataplane.js';
import { Drain } from './drain.js';
import { earlyListeners } from './enroll/early-listeners.js';
import { Enrollments } from './enroll/enrollments.js';
import { NetnsFinder } from './enroll/netns-finder.js';
import { serveEnrollment } from './enroll/server.js';
import { StateFile, type EnrolledPod } from './enroll/state-file.js';
import { loadLocalConfig, localConfigDeltas, watchLocalConfig } from './local-config.js';
import { nativeNetns } from './netns/native.js';
import { MemoryTrimmer } from './memory-trim.js';
import { NetnsSocketFactory } from './netns/socket-factory.js';
import { ReadyGate } from './proxy/ready-gate.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('weft-node-agent')
  .usage('weft-node-agent --node <name> (--control <host:port> --token-file <f> --ca-root <pem> | --local-config <file.yaml>)\n\nThe per-node weft data plane: enrolls pods, captures their traffic, carries it over HBONE.')
  .option('node', { type: 'string', demandOption: true, describe: 'this node name (as in Pod spec.nodeName)' })
  .option('cni-socket', { type: 'string', default: DEFAULTS.cniSocket, describe: 'unix socket the weft-cni plugin calls' })
  .option('state-dir', { type: 'string', default: DEFAULTS.stateDir, describe: 'where enrollments are recorded (survives restarts)' })
  .option('control', { type: 'string', describe: 'weft-control address host:port' })
  .option('token-file', { type: 'string', describe: 'bearer token for the control plane' })
  .option('ca-root', { type: 'string', describe: 'PEM root that signs the control plane serving certificate' })
  .option('local-config', { type: 'string', describe: 'YAML with workloads/services/policies and a CA (standalone mode)' })
  .option('admin-address', { type: 'string', default: DEFAULTS.adminAddress })
  .option('metrics-address', { type: 'string', default: DEFAULTS.metricsAddress })
  .option('health-address', { type: 'string', default: DEFAULTS.healthAddress })
  .option('trust-domain', { type: 'string', default: DEFAULTS.trustDomain })
  .option('log-level', { type: 'string' })
  .option('host-proc', {
    type: 'string',
    default: process.env[ENV_HOST_PROC] || DEFAULTS.hostProc,
    describe: `the host's /proc, where pods with no known netns are found (env ${ENV_HOST_PROC})`,
  })
  .option('hbone-session-idle-ms', {
    type: 'number',
    default: process.env[ENV_HBONE_SESSION_IDLE_MS] || DEFAULTS.hboneSessionIdleMs,
    coerce: Number,
    describe: `close inbound HBONE sessions with no open stream for this long, 0 = never (env ${ENV_HBONE_SESSION_IDLE_MS})`,
  })
  .option('drain-ms', {
    type: 'number',
    default: process.env[ENV_DRAIN_MS] || DEFAULTS.drainMs,
    coerce: Number,
    describe: `on SIGTERM, stop accepting and give live connections this long to finish before exiting (env ${ENV_DRAIN_MS})`,
  })
  .check((a) => {
    if (!a.control === !a['local-config']) throw new Error('give exactly one of --control or --local-config');
    if (a.control && (!a['token-file'] || !a['ca-root'])) throw new Error('--control needs --token-file and --ca-root');
    if (!Number.isSafeInteger(a['hbone-session-idle-ms']) || a['hbone-session-idle-ms'] < 0) throw new Error(`--hbone-session-idle-ms (env ${ENV_HBONE_SESSION_IDLE_MS}) must be a whole number of milliseconds, 0 or more`);
    if (!Number.isSafeInteger(a['drain-ms']) || a['drain-ms'] < 0) throw new Error(`--drain-ms (env ${ENV_DRAIN_MS}) must be a whole number of milliseconds, 0 or more`);
    return true;
  })
  .strict()
  .help()
  .parseAsync();

const config: AgentConfig = {
  node: argv.node,
  cniSocket: argv['cni-socket'],
  stateDir: argv['state-dir'],
  control: argv.control,
  tokenFile: argv['token-file'],
  caRoot: argv['ca-root'],
  localConfig: argv['local-config'],
  adminAddress: argv['admin-address'],
  metricsAddress: argv['metrics-address'],
  healthAddress: argv['health-address'],
  trustDomain: argv['trust-domain'],
  logLevel: argv['log-level'],
  hostProc: argv['host-proc'],
  hboneSessionIdleMs: argv['hbone-session-idle-ms'],
  drainMs: argv['drain-ms'],
};

/** Kinds whose first snapshot must be in before pod traffic is handled (RouteTable is the waypoints'). */
const STATE_KINDS = ['Workload', 'Service', 'Authorization', 'TrustBundle'] as const;

const log = createLogger({ name: 'weft-node-agent', level: config.logLevel });
const accessLog = log.child({ log: 'access' });

try {
  await run();
} catch (err) {
  log.fatal({ err, code: isWeftError(err) ? err.code : undefined, hint: isWeftError(err) ? err.hint : undefined }, 'node agent failed to start');
  process.exit(1);
}

async function run(): Promise<void> {
  const store = new StateStore();
  const registry = createRegistry();
  let certifier: Certifier;
  let trustDomain = config.trustDomain;
  let fallbackRoots: string[] | undefined;
  const closers: (() => void)[] = [];
  if (config.localConfig) {
    const cfg = await loadLocalConfig(config.localConfig);
    const ca = await CertificateAuthority.load({ certChainPem: cfg.caCertPem, keyPem: cfg.caKeyPem });
    certifier = new LocalCertifier(ca);
    trustDomain = cfg.trustDomain;
    fallbackRoots = ca.rootsPem;
    store.apply([...localConfigDeltas(cfg, '1'), { kind: 'TrustBundle', version: '1', upserts: [{ trustDomain, roots: ca.rootsPem }], removes: [], replace: true, snapshotDone: true }]);
    closers.push(watchLocalConfig(config.localConfig, store, (err) => log.error({ err }, 'cannot reload --local-config; keeping the previous state')));
  } else {
    // Root rotation: the control channel's roots follow the --ca-root file and the pushed trust bundle.
    const roots = await ControlRoots.fromFile(config.caRoot!, { logger: log });
    roots.follow(store);
    closers.push(() => roots.close());
    const caRootPem = roots.current();
    certifier = new ControlCertifier({ address: config.control!, caRootPem, roots, tokenFile: config.tokenFile! });
    const discovery = new DiscoveryClient({ address: config.control!, caRootPem, roots, store, node: config.node, tokenFile: config.tokenFile, logger: log });
    discovery.start();
    closers.push(() => discovery.close());
  }

  // Connections on pod listeners wait here until the agent is ready (restart: listeners come back first).
  // Memory freed after load goes back to the kernel instead of staying in malloc (memory-trim.ts).
  const trimmer = new MemoryTrimmer({ malloc: nativeNetns(), logger: log.child({ component: 'memory' }) });
  trimmer.start();
  closers.push(() => trimmer.stop());
  const gate = new ReadyGate({ holdMs: DEFAULTS.readyHoldMs, maxHeld: DEFAULTS.readyMaxHeld, log: log.child({ component: 'proxy.gate' }) });
  const dp = createDataplane({ view: store, certifier, trustDomain, fallbackRoots, registry, log, accessLog, gate, hboneSessionIdleMs: config.hboneSessionIdleMs, limits: connectionLimitsFrom(process.env) });
  const finder = new NetnsFinder({ hostProc: config.hostProc });
  const findNetns = async (ips: readonly string[]): Promise<string | undefined> => {
    try {
      const found = await finder.find(ips);
      if (found) log.info({ ips, netns: found.path }, 'found the netns of a running pod in the host procfs');
      return found?.path;
    } catch (err) {
      log.warn({ err }, 'cannot look for running pods in the host procfs');
      return undefined;
    }
  };
  const stateFile = new StateFile(config.stateDir);
  const enrollments = new Enrollments({
    view: store,
    inputs: dp.inputs,
    stateFile,
    nodeName: config.node,
    // Pod listeners adopt the sockets main.ts re-opened at process start, when there are any.
    factoryFor: (netns) => earlyListeners().factory(netns, new NetnsSocketFactory(netns)),
    log: log.child({ component: 'enroll' }),
    waitMs: DEFAULTS.enrollWaitMs,
    findNetns,
  });
  new Gauge({
    name: 'weft_agent_enrolled_pods',
    help: 'Pods captured by this node agent',
    registers: [registry],
    collect() {
      this.set(enrollments.size);
    },
  });

  // Re-enroll first: capture of already running pods resumes before anything else. Entries found in the
  // host procfs earlier name a pid; one that ended may have been reused by another namespace's process.
  await forgetStaleProcNetns(stateFile, finder);
  const restored = await enrollments.restore();
  const early = earlyListeners();
  const unadopted = early.closeRest();
  log.info({ restored, stateFile: stateFile.path, ...(unadopted > 0 ? { unadoptedEarlyListeners: unadopted } : {}) }, 'restored enrollments from state file');

  // Ready once the first state of every kind the data path reads is in and every enrolled pod's
  // certificate is held; until then the gate holds the pod listeners' connections (no plaintext
  // passthrough or fail-open policy from a half-known state).
  let certsReady = false;
  const stateSynced = (): boolean => STATE_KINDS.every((k) => store.synced(k));
  const readyReason = (): string | undefined => {
    if (!stateSynced()) return 'waiting for cluster state';
    if (!certsReady) return 'fetching workload certificates';
    return undefined;
  };
  const warmCerts = async (): Promise<void> => {
    for (;;) {
      if (stateSynced()) {
        const ids = new Set<string>();
        for (const p of enrollments.list()) {
          const w = (p.uid ? store.workloadByUid(p.uid) : undefined) ?? store.workloadByName(p.namespace, p.name);
          if (w) ids.add(SpiffeId.of(trustDomain, w.namespace, w.serviceAccount).toString());
        }
        try {
          await Promise.all([...ids].map((id) => dp.certs.get(SpiffeId.parse(id))));
          certsReady = true;
          gate.open();
          log.info({ identities: ids.size, restored }, 'node agent ready');
          return;
        } catch (err) {
          log.warn({ err }, 'waiting for workload certificates');
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  void warmCerts();

  const servers: Server[] = [];
  servers.push(await serveEnrollment(config.cniSocket, enrollments, () => store.synced('Workload'), log.child({ component: 'enroll.server' })));
  const shared = (address: string): number => {
    const { host, port } = splitAddress(address);
    // SO_REUSEPORT so that a restarted agent binds while the old one is still exiting.
    return nativeNetns().listenInNetns('', host, port, { reusePort: true });
  };
  servers.push(await serveMetrics(registry, { fd: shared(config.metricsAddress) }));
  servers.push(await serveAdmin({ fd: shared(config.adminAddress) }, { store, enrollments, inputs: dp.inputs, certs: dp.certs, tap: dp.tap, node: config.node, roots: () => dp.inputs.tls.roots(), config }));
  servers.push(await serveHealth({ fd: shared(config.healthAddress) }, readyReason));
  log.info({ node: config.node, cniSocket: config.cniSocket, mode: config.localConfig ? 'local' : 'control' }, 'node agent started');

  // SIGTERM (pod deletion, rolling update): stop accepting, let live connections finish, then exit.
  // Capture rules, the state file and the CNI socket path stay: a successor may already serve them.
  const drain = new Drain({
    graceMs: config.drainMs,
    log,
    stopAccepting: () => {
      for (const s of servers) s.close();
      enrollments.drain(config.drainMs);
    },
    live: () => dp.inputs.limits.total,
    finish: () => {
      for (const c of closers) c();
      enrollments.close();
      gate.close();
      dp.close();
    },
    exit: (code) => process.exit(code),
  });
  process.on('SIGTERM', () => drain.signal('SIGTERM'));
  process.on('SIGINT', () => drain.signal('SIGINT'));
}

/** Drops state-file entries whose `<hostProc>/<pid>/ns/net` no longer holds the pod's IPs (reconcile finds them again). */
async function forgetStaleProcNetns(stateFile: StateFile, finder: NetnsFinder): Promise<void> {
  try {
    const saved = await stateFile.load();
    const keep = async (list: readonly EnrolledPod[]): Promise<EnrolledPod[]> => {
      const out: EnrolledPod[] = [];
      for (const r of list) {
        if (await finder.stillHolds(r.netns, r.ips)) out.push(r);
        else log.warn({ pod: `${r.namespace}/${r.name}`, netns: r.netns }, 'recorded netns now belongs to another process; looking for the pod again');
      }
      return out;
    };
    const pods = await keep(saved.pods);
    const known = await keep(saved.known);
    if (pods.length !== saved.pods.length || known.length !== saved.known.length) await stateFile.save(pods, known);
  } catch (err) {
    log.warn({ err }, 'cannot check the state file for stale netns paths');
  }
}
