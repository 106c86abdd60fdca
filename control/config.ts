import path from 'node:path';
import yargs from 'yargs';
import { WeftError } from '../lib/errors/index.js';
import { parseHostPort } from '../lib/host-port.js';
import { DEFAULT_LEAF_LIFETIME_SECONDS, parseLeafLifetime } from '../lib/identity/leaf-lifetime.js';
import { CONTROL_NAMESPACE, CONTROL_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';
import { DEFAULT_CA_RELOAD_MS } from './ca-reload.js';
import { DEFAULT_WAYPOINT_REPLICAS } from './waypoints/objects.js';

// weft-control's flags and their defaults, in one place.

export const DEFAULT_LISTEN = `0.0.0.0:${CONTROL_PORT}`;
export const DEFAULT_METRICS_ADDRESS = `0.0.0.0:${METRICS_PORT}`;
export const DEFAULT_HEALTH_ADDRESS = `0.0.0.0:${HEALTH_PORT}`;
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** Discovery push debounce; the issue bounds it at 50 ms. */
export const DEFAULT_DEBOUNCE_MS = 20;
/**
 * IdentityService.Certify per caller (a node agent per node, anyone else per service account). A node
 * agent asks one certificate per service account with pods on its node, not per pod, so a node starting
 * 100 pods at once needs at most 100 calls at once: burst 200 covers that twice over (retries included).
 * Steady renewal is one call per identity per half-life (12 h), far below 1/s; 20/s refills a whole burst
 * in 10 s, so a node coming back after an outage with 1 000 identities is served in under a minute.
 * A runaway caller is held to 20/s — under half of what one replica signs on a loaded 2-core machine
 * (bench/control-scale: ~46/s), so the others keep being served; the storm that motivated the limit was
 * 6 836 calls in 30 s (~230/s) from one node.
 */
export const DEFAULT_CERTIFY_BURST = 200;
export const DEFAULT_CERTIFY_RATE_PER_SECOND = 20;

/** Environment variable for `--leaf-lifetime` (the flag wins when both are set). */
export const ENV_LEAF_LIFETIME = 'WEFT_CONTROL_LEAF_LIFETIME';

export type SourceSpec = { type: 'dir'; dir: string } | { type: 'kube' };

export interface ControlConfig {
  source: SourceSpec;
  listen: string;
  caDir?: string;
  caCert?: string;
  caKey?: string;
  /** How often the CA store is re-read for root rotation steps (ms; default DEFAULT_CA_RELOAD_MS). */
  caReloadMs?: number;
  tokenPublicKey?: string;
  trustDomain: string;
  metricsAddress: string;
  healthAddress: string;
  namespace: string;
  /** Extra names/IPs for the serving certificate (beyond weft-control.<ns>.svc and loopback). */
  servingSans: string[];
  debounceMs: number;
  /** Per-caller limit on IdentityService.Certify (default DEFAULT_CERTIFY_BURST / DEFAULT_CERTIFY_RATE_PER_SECOND). */
  certifyRateLimit?: { burst: number; ratePerSecond: number };
  /**
   * Lifetime of the workload certificates it issues (`--leaf-lifetime` / WEFT_CONTROL_LEAF_LIFETIME; 10m–7d,
   * default 24 h). Data planes ask for none and get this; a CA expiring sooner caps it (and is reported).
   */
  leafLifetimeSeconds?: number;
  logLevel?: string;
  /** `--control` the generated waypoint Deployments pass to weft-waypoint (default weft-control.<namespace>.svc:15012). */
  waypointControlAddress?: string;
  /** Image of generated waypoints when the GatewayClass parameters name none (default the chart's image). */
  waypointImage?: string;
  /** Replicas of each generated waypoint Deployment (default 2; a Gateway's weft.dev/waypoint-replicas overrides it). */
  waypointReplicas?: number;
  /** Mesh-wide `weft.dev/mtls-mode` for workloads whose pod and namespace set none (default permissive). */
  mtlsModeDefault?: 'strict' | 'permissive';
}

export function parseSource(value: string): SourceSpec {
  if (value === 'kube') return { type: 'kube' };
  if (value.startsWith('dir:') && value.length > 4) return { type: 'dir', dir: value.slice(4) };
  throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--source must be dir:<clusterDir> or kube, not ${JSON.stringify(value)}` });
}

/**
 * weft-control in directory mode with its state under `root` (cluster/, ca/, token.pub) and every listener
 * on an ephemeral loopback port: how tests and benchmarks run it inside their own process (startControl).
 */
export function loopbackDirectoryConfig(root: string, overrides: Partial<ControlConfig> = {}): ControlConfig {
  return {
    source: { type: 'dir', dir: path.join(root, 'cluster') },
    listen: '127.0.0.1:0',
    caDir: path.join(root, 'ca'),
    tokenPublicKey: path.join(root, 'token.pub'),
    trustDomain: DEFAULT_TRUST_DOMAIN,
    metricsAddress: '127.0.0.1:0',
    healthAddress: '127.0.0.1:0',
    namespace: CONTROL_NAMESPACE,
    servingSans: [],
    debounceMs: DEFAULT_DEBOUNCE_MS,
    ...overrides,
  };
}

export async function parseControlArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ControlConfig> {
  const args = await yargs(argv)
    .scriptName('weft-control')
    .usage('weft-control --source dir:<clusterDir>|kube [options]\n\nThe weft control plane: cluster-state source, CA and identity service, discovery streams.')
    .strict()
    .option('source', { type: 'string', demandOption: true, describe: 'dir:<clusterDir> (lab / playground) or kube (in-cluster config or kubeconfig)' })
    .option('listen', { type: 'string', default: DEFAULT_LISTEN, describe: 'gRPC (TLS) listen address' })
    .option('ca-dir', { type: 'string', describe: 'directory mode: where CA material is kept (created on first start); default <clusterDir>/../control-ca' })
    .option('ca-cert', { type: 'string', describe: 'a CA certificate chain (root or intermediate, then its parents) to use instead of generating one' })
    .option('ca-key', { type: 'string', describe: 'the PKCS#8 key of --ca-cert' })
    .option('ca-reload-interval', { type: 'number', default: DEFAULT_CA_RELOAD_MS / 1000, describe: 'seconds between reads of the CA store (Secret weft-ca or --ca-dir) that pick up root rotation steps (docs/rotation.md)' })
    .option('token-public-key', { type: 'string', describe: 'directory mode: PEM public key(s) (or a JWKS JSON file) verifying the tokens the lab mints' })
    .option('trust-domain', { type: 'string', default: DEFAULT_TRUST_DOMAIN })
    .option('metrics-address', { type: 'string', default: DEFAULT_METRICS_ADDRESS })
    .option('health-address', { type: 'string', default: DEFAULT_HEALTH_ADDRESS, describe: 'serves /healthz/ready' })
    .option('namespace', { type: 'string', default: CONTROL_NAMESPACE, describe: 'the control plane namespace' })
    .option('serving-san', { type: 'string', array: true, default: [] as string[], describe: 'extra DNS names or IPs for the gRPC serving certificate' })
    .option('debounce-ms', { type: 'number', default: DEFAULT_DEBOUNCE_MS, describe: 'discovery push debounce (≤ 50)' })
    .option('certify-burst', { type: 'number', default: DEFAULT_CERTIFY_BURST, describe: 'IdentityService.Certify calls one caller may make at once (>= 1)' })
    .option('certify-rate', { type: 'number', default: DEFAULT_CERTIFY_RATE_PER_SECOND, describe: 'sustained IdentityService.Certify calls per second per caller (> 0)' })
    .option('leaf-lifetime', { type: 'string', describe: `lifetime of issued workload certificates, 10m to 7d: e.g. 24h, 90m, 3600 (seconds); env ${ENV_LEAF_LIFETIME}; default 24h` })
    .option('log-level', { type: 'string' })
    .option('mtls-mode-default', { choices: ['permissive', 'strict'] as const, default: 'permissive' as const, describe: 'mesh-wide mTLS mode where neither pod nor namespace sets weft.dev/mtls-mode' })
    .option('waypoint-control-address', { type: 'string', describe: 'the --control address written into generated waypoint Deployments (default weft-control.<namespace>.svc:15012; the GatewayClass parameters\' controlAddress wins)' })
    .option('waypoint-image', { type: 'string', describe: 'image of generated waypoints when the GatewayClass parameters name none (default the chart\'s image)' })
    .option('waypoint-replicas', { type: 'number', default: DEFAULT_WAYPOINT_REPLICAS, describe: 'replicas of each generated waypoint Deployment (1-100)' })
    .check((a) => {
      if ((a['ca-cert'] === undefined) !== (a['ca-key'] === undefined)) throw new Error('--ca-cert and --ca-key go together');
      return true;
    })
    .help()
    .version(false)
    .parseAsync();
  const listen = args.listen;
  parseHostPort(listen, '--listen');
  parseHostPort(args['metrics-address'], '--metrics-address');
  parseHostPort(args['health-address'], '--health-address');
  const burst = args['certify-burst'];
  const rate = args['certify-rate'];
  if (!Number.isFinite(burst) || burst < 1) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--certify-burst must be a number >= 1, not ${String(burst)}` });
  const reload = args['ca-reload-interval'];
  if (!Number.isFinite(reload) || reload < 0.1 || reload > 3600) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--ca-reload-interval must be seconds in [0.1, 3600], not ${String(reload)}` });
  const replicas = args['waypoint-replicas'];
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 100) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--waypoint-replicas must be an integer from 1 to 100, not ${String(replicas)}` });
  if (!Number.isFinite(rate) || rate <= 0) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--certify-rate must be a number > 0, not ${String(rate)}` });
  const leafFlag = args['leaf-lifetime'];
  const leafEnv = env[ENV_LEAF_LIFETIME];
  const leafLifetimeSeconds =
    leafFlag !== undefined
      ? parseLeafLifetime(leafFlag, '--leaf-lifetime')
      : leafEnv !== undefined && leafEnv !== ''
        ? parseLeafLifetime(leafEnv, ENV_LEAF_LIFETIME)
        : DEFAULT_LEAF_LIFETIME_SECONDS;
  return {
    source: parseSource(args.source),
    listen,
    caDir: args['ca-dir'],
    caCert: args['ca-cert'],
    caKey: args['ca-key'],
    caReloadMs: Math.round(reload * 1000),
    tokenPublicKey: args['token-public-key'],
    trustDomain: args['trust-domain'],
    metricsAddress: args['metrics-address'],
    healthAddress: args['health-address'],
    namespace: args.namespace,
    servingSans: args['serving-san'].map(String),
    debounceMs: Math.min(50, Math.max(0, args['debounce-ms'])),
    certifyRateLimit: { burst: Math.floor(burst), ratePerSecond: rate },
    leafLifetimeSeconds,
    logLevel: args['log-level'],
    waypointControlAddress: args['waypoint-control-address'],
    waypointImage: args['waypoint-image'],
    waypointReplicas: replicas,
    mtlsModeDefault: args['mtls-mode-default'],
  };
}
