import { ADMIN_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';

// Names and defaults of the waypoint process, in one place.

/** How long an undeclared port waits for the client's first bytes before treating it as opaque TCP. */
export const DEFAULT_SNIFF_MS = 200;
/** A downstream connection or stream idle this long is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_ADMIN_ADDRESS = `127.0.0.1:${ADMIN_PORT}`;
export const DEFAULT_METRICS_ADDRESS = `0.0.0.0:${METRICS_PORT}`;
export const DEFAULT_HEALTH_ADDRESS = `0.0.0.0:${HEALTH_PORT}`;
export const ENV_LOG_LEVEL = 'WEFT_LOG_LEVEL';
