import { ADMIN_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';

// Names and defaults of the waypoint process, in one place.

/** How long an undeclared port waits for the client's first bytes before treating it as opaque TCP. */
export const DEFAULT_SNIFF_MS = 200;
/** A downstream connection or stream idle this long is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_ADMIN_ADDRESS = `127.0.0.1:${ADMIN_PORT}`;
export const DEFAULT_METRICS_ADDRESS = `0.0.0.0:${METRICS_PORT}`;
export const DEFAULT_HEALTH_ADDRESS = `0.0.0.0:${HEALTH_PORT}`;
/**
 * The HBONE server closes a session that has had no open stream this long (GOAWAY, then close); the same
 * 5 min after which HBONE clients release idle sessions. 0 never closes them.
 */
export const DEFAULT_HBONE_SESSION_IDLE_MS = 300_000;
/** Environment variable for `--hbone-session-idle-ms`. */
export const ENV_HBONE_SESSION_IDLE_MS = 'WEFT_HBONE_SESSION_IDLE_MS';
/** Kubernetes cluster DNS domain: `<svc>.<ns>.svc.<domain>` is the name a route hostname gives a Service. */
export { CLUSTER_DOMAIN } from '../lib/telemetry/istio-labels.js';
