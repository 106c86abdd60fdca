#!/usr/bin/env node
import 'reflect-metadata';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { Server } from 'node:http';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { WeftError, isWeftError } from '../lib/errors/index.js';
import { parseHostPort } from '../lib/host-port.js';
import { HBONE_PORT } from '../lib/names.js';
import { StateStore } from '../lib/model/index.js';
import { createLogger } from '../lib/telemetry/log.js';
import { createRegistry, serveMetrics } from '../lib/telemetry/metrics.js';
import { serveAdmin } from './admin.js';
import { serveHealth } from '../lib/telemetry/http-endpoints.js';
import { DEFAULT_ADMIN_ADDRESS, DEFAULT_HBONE_SESSION_IDLE_MS, DEFAULT_HEALTH_ADDRESS, DEFAULT_METRICS_ADDRESS, ENV_HBONE_SESSION_IDLE_MS } from './config.js';
import { TcpConnector, type Connector } from './transport/connector.js';
import { loadWaypointConfig, waypointConfigDeltas } from './local-config.js';
import { Waypoint } from './waypoint.js';
import { startMeshTransport, type MeshTransport } from './mesh.js';
import { explainRequest } from './explain.js';
import { policyRows, workloadRows, type ReadOnlyRoutes } from '../lib/admin/index.js';

// weft-waypoint: one per Gateway of class weft-waypoint. State from the control plane (--control) or a
// file (--local-config); inbound HBONE on 15008; admin, metrics and health on their usual ports.

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .scriptName('weft-waypoint')
    .usage('$0 --gateway <ns>/<name> (--control <host:port> --token-file <f> --ca-root <pem> | --local-config <file.yaml>)')
    .option('gateway', { type: 'string', demandOption: true, describe: 'The Gateway this waypoint serves, <namespace>/<name>' })
    .option('control', { type: 'string', describe: 'weft-control address host:port' })
    .option('token-file', { type: 'string', describe: 'ServiceAccount token for the control plane (with --control)' })
    .option('ca-root', { type: 'string', describe: 'PEM file of the root the control plane certificate chains to (with --control)' })
    .option('local-config', { type: 'string', describe: 'YAML file with workloads, services, policies, routes and CA material (no control plane)' })
    .option('trust-domain', { type: 'string', default: 'cluster.local' })
    .option('service-account', { type: 'string', describe: 'Service account of this waypoint (default: the Gateway name)' })
    .option('hbone-address', { type: 'string', default: `0.0.0.0:${HBONE_PORT}`, describe: 'HBONE listener' })
    .option('upstream-hbone-port', { type: 'number', default: HBONE_PORT, describe: 'HBONE port at endpoint pods (tests move it)' })
    .option('hbone-session-idle-ms', {
      type: 'number',
      default: process.env[ENV_HBONE_SESSION_IDLE_MS] || DEFAULT_HBONE_SESSION_IDLE_MS,
      coerce: Number,
      describe: `Close inbound HBONE sessions with no open stream for this long, 0 = never (env ${ENV_HBONE_SESSION_IDLE_MS})`,
    })
    .option('plain-listen', { type: 'string', array: true, default: [] as string[], describe: 'Benchmarks/debugging only: <host:port>=<vip:port> serves plain TCP as if tunnelled to vip:port (no identity)' })
    .option('admin-address', { type: 'string', default: DEFAULT_ADMIN_ADDRESS })
    .option('metrics-address', { type: 'string', default: DEFAULT_METRICS_ADDRESS })
    .option('health-address', { type: 'string', default: DEFAULT_HEALTH_ADDRESS })
    .option('access-log', { type: 'boolean', default: true, describe: 'Log one line per request (logger weft-waypoint.access)' })
    .option('log-level', { type: 'string', describe: 'pino level (default WEFT_LOG_LEVEL or info)' })
    .strict()
    .help()
    .parseAsync();

  const log = createLogger({ name: 'weft-waypoint', level: args['log-level'] });
  const [gwNs, gwName] = args.gateway.split('/');
  if (!gwNs || !gwName) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--gateway must be <namespace>/<name>, got "${args.gateway}"` });
  if (!args.control === !args['local-config']) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'give exactly one of --control or --local-config' });
  const sessionIdleMs = args['hbone-session-idle-ms'];
  if (!Number.isSafeInteger(sessionIdleMs) || sessionIdleMs < 0) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--hbone-session-idle-ms (env ${ENV_HBONE_SESSION_IDLE_MS}) must be a whole number of milliseconds, 0 or more` });
  const gateway = { namespace: gwNs, name: gwName };
  const sa = args['service-account'] ?? gwName;
  const identity = `spiffe://${args['trust-domain']}/ns/${gwNs}/sa/${sa}`;

  const store = new StateStore();
  const registry = createRegistry();
  const closers: Array<() => void> = [];
  let mesh: MeshTransport | undefined;

  if (args['local-config']) {
    const cfg = await loadWaypointConfig(args['local-config']);
    store.apply(waypointConfigDeltas(cfg, gateway, '1'));
    if (cfg.caCertPem && cfg.caKeyPem) mesh = await startMeshTransport({ mode: 'local', caCertPem: cfg.caCertPem, caKeyPem: cfg.caKeyPem, trustDomain: cfg.trustDomain, namespace: gwNs, serviceAccount: sa, log, registry, view: store, upstreamPort: args['upstream-hbone-port'], sessionIdleMs });
  } else {
    if (!args['token-file'] || !args['ca-root']) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: '--control needs --token-file and --ca-root' });
    const { DiscoveryClient } = await import('../lib/control-client/discovery-client.js');
    const { ControlRoots } = await import('../lib/control-client/control-roots.js');
    // Root rotation: the control channel's roots follow the --ca-root file and the pushed trust bundle.
    const roots = await ControlRoots.fromFile(args['ca-root'], { logger: log });
    roots.follow(store);
    closers.push(() => roots.close());
    const caRootPem = roots.current();
    const discovery = new DiscoveryClient({ address: args.control!, caRootPem, roots, store, waypoint: args.gateway, tokenFile: args['token-file'], logger: log });
    discovery.start();
    closers.push(() => discovery.close());
    mesh = await startMeshTransport({ mode: 'control', address: args.control!, caRootPem, roots, tokenFile: args['token-file'], trustDomain: args['trust-domain'], namespace: gwNs, serviceAccount: sa, log, registry, view: store, upstreamPort: args['upstream-hbone-port'], sessionIdleMs });
  }

  const connector: Connector = mesh?.connector ?? new TcpConnector();
  const waypoint = new Waypoint({
    view: store,
    gateway,
    connector,
    registry,
    log,
    accessLog: args['access-log'] ? createLogger({ name: 'weft-waypoint.access', level: args['log-level'] }) : null,
    identity,
  });

  if (mesh) closers.push(await mesh.serveInbound(args['hbone-address'], waypoint));
  else log.warn('no CA material or control plane certificates: HBONE inbound is off and upstream connections are plain TCP');

  const plain: NetServer[] = [];
  for (const spec of args['plain-listen']) {
    const [listen, authority] = spec.split('=');
    if (!listen || !authority) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--plain-listen wants <host:port>=<vip:port>, got "${spec}"` });
    const srv = createNetServer({ noDelay: true }, (socket) => waypoint.acceptTunnel(socket, { authority, principal: undefined, sourceIp: socket.remoteAddress }));
    const { host, port } = parseHostPort(listen, '--plain-listen');
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    plain.push(srv);
  }

  const ready = (): boolean => store.synced('Service') && store.synced('RouteTable');
  const servers: Server[] = [];
  servers.push(await serveMetrics(registry, parseHostPort(args['metrics-address'], '--metrics-address')));
  const component = `waypoint ${args.gateway}`;
  const config = {
    gateway: args.gateway,
    identity,
    trustDomain: args['trust-domain'],
    mode: args.control ? 'control' : 'local',
    control: args.control,
    hboneAddress: args['hbone-address'],
    adminAddress: args['admin-address'],
    metricsAddress: args['metrics-address'],
    healthAddress: args['health-address'],
    hboneSessionIdleMs: sessionIdleMs,
    accessLog: args['access-log'],
  };
  const routes: ReadOnlyRoutes = {
    '/config_dump': () => ({ config, identity, ...(waypoint.dump() as object) }),
    '/debug/workloads': () => ({ component, workloads: workloadRows(store.workloads(), waypoint.index.trustDomain) }),
    '/debug/policies': () => ({ component, policies: policyRows(store.all('Authorization')) }),
    '/debug/certificates': () => ({ component, certificates: mesh?.certificates() ?? [] }),
    '/debug/explain': (q) => explainRequest(waypoint.index, store, identity, q),
  };
  servers.push(await serveAdmin(args['admin-address'], { routes, tap: waypoint.tap, component, ready }));
  servers.push(await serveHealth(parseHostPort(args['health-address'], '--health-address'), () => (ready() ? undefined : '')));
  log.info({ gateway: args.gateway, identity, hbone: mesh ? args['hbone-address'] : null, plain: args['plain-listen'] }, 'weft-waypoint started');

  const shutdown = (): void => {
    log.info('shutting down');
    for (const c of closers) c();
    for (const s of plain) s.close();
    for (const s of servers) s.close();
    waypoint.close();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  const e = isWeftError(err) ? err : new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: String(err) }, { cause: err });
  process.stderr.write(`weft-waypoint: ${e.code}: ${e.message}\n  hint: ${e.hint}\n`);
  process.exit(1);
});
