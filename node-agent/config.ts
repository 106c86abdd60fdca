import { DEFAULT_CNI_SOCKET } from '../lib/enrollment.js';
import { WeftError } from '../lib/errors/index.js';
import { parseHostPort, type HostPort } from '../lib/host-port.js';
import { ADMIN_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';

// Every flag of weft-node-agent with its default. Environment
// variables use the same names, upper-cased with a WEFT_AGENT_ prefix where noted.

export const DEFAULTS = {
  cniSocket: DEFAULT_CNI_SOCKET,
  stateDir: '/var/run/weft/agent',
  adminAddress: `127.0.0.1:${ADMIN_PORT}`,
  metricsAddress: `0.0.0.0:${METRICS_PORT}`,
  healthAddress: `0.0.0.0:${HEALTH_PORT}`,
  trustDomain: 'cluster.local',
  /** How long CNI ADD waits for the pod to show up in cluster state. */
  enrollWaitMs: 3000,
  /** The host's /proc (`--host-proc`, env WEFT_HOST_PROC): pods without a known netns are found there. */
  hostProc: '/proc',
  /**
   * A restarted agent holds connections on its re-created pod listeners until it is ready; past this
   * they are reset. Longer than a normal restart's wait for state and certificates (~1-3 s on a busy node).
   */
  readyHoldMs: 10_000,
  /** At most this many connections held while not ready (200 new connections/s for 10 s, doubled). */
  readyMaxHeld: 4000,
  /**
   * Most connections one pod's listeners and HBONE tunnels hold at once (env
   * WEFT_AGENT_MAX_CONNECTIONS_PER_POD). Each holds at most two file descriptors, so the default keeps one
   * pod under ~16k descriptors; one busy pod cannot exhaust the agent and take down every other pod's mesh.
   */
  maxConnectionsPerPod: 8192,
  /** Most connections one source IP holds at once across the node's pods (env WEFT_AGENT_MAX_CONNECTIONS_PER_SOURCE). */
  maxConnectionsPerSource: 2048,
  /**
   * A pod's HBONE server (15008) closes a session that has had no open stream this long (GOAWAY, then
   * close); the same 5 min after which HBONE clients release idle sessions. 0 never closes them.
   */
  hboneSessionIdleMs: 300_000,
  /**
   * On SIGTERM the agent stops accepting and gives live connections this long to finish before it closes
   * the rest and exits (`--drain-ms`, env WEFT_AGENT_DRAIN_MS); Istio's terminationDrainDuration default.
   * The chart keeps terminationGracePeriodSeconds above it.
   */
  drainMs: 30_000,
} as const;

export const ENV_MAX_CONNECTIONS_PER_POD = 'WEFT_AGENT_MAX_CONNECTIONS_PER_POD';
export const ENV_MAX_CONNECTIONS_PER_SOURCE = 'WEFT_AGENT_MAX_CONNECTIONS_PER_SOURCE';

/** The connection bounds: defaults, overridden by the environment; a value that is not a positive integer is refused. */
export function connectionLimitsFrom(env: NodeJS.ProcessEnv = process.env): { perPod: number; perSource: number } {
  return {
    perPod: positiveInt(env, ENV_MAX_CONNECTIONS_PER_POD, DEFAULTS.maxConnectionsPerPod),
    perSource: positiveInt(env, ENV_MAX_CONNECTIONS_PER_SOURCE, DEFAULTS.maxConnectionsPerSource),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[1-9][0-9]{0,8}$/.test(raw.trim())) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `${name}=${JSON.stringify(raw)}: want a positive integer (default ${fallback})` });
  }
  return Number(raw.trim());
}

/** Environment variable for `--host-proc` (set by the chart to where it mounts the host's /proc). */
export const ENV_HOST_PROC = 'WEFT_HOST_PROC';
/** Environment variable for `--hbone-session-idle-ms`. */
export const ENV_HBONE_SESSION_IDLE_MS = 'WEFT_HBONE_SESSION_IDLE_MS';
/** Environment variable for `--drain-ms` (the chart sets it from nodeAgent.terminationDrainSeconds). */
export const ENV_DRAIN_MS = 'WEFT_AGENT_DRAIN_MS';

export interface AgentConfig {
  readonly node: string;
  readonly cniSocket: string;
  readonly stateDir: string;
  readonly control?: string;
  readonly tokenFile?: string;
  readonly caRoot?: string;
  readonly localConfig?: string;
  readonly adminAddress: string;
  readonly metricsAddress: string;
  readonly healthAddress: string;
  readonly trustDomain: string;
  readonly logLevel?: string;
  readonly hostProc: string;
  readonly hboneSessionIdleMs: number;
  readonly drainMs: number;
}

/** `host:port` → parts; `[v6]:port` accepted; a malformed address is refused. */
export function splitAddress(a: string): HostPort {
  return parseHostPort(a, 'address');
}
