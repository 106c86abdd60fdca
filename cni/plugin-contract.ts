// The facts weft-cni (the C plugin in cni/native/) and install-cni share: defaults and limits of the
// plugin's conflist entry, the CNI versions it speaks and its stdin bounds. scripts/build-cni.mjs
// writes them, with the CNI codes of lib/errors, into the plugin's generated header, so the two sides
// cannot drift apart.
import { CONTROL_NAMESPACE } from '../lib/names.js';

export { DEFAULT_CNI_SOCKET } from '../lib/enrollment.js';

export const DEFAULT_EXCLUDE_NAMESPACES: readonly string[] = ['kube-system', CONTROL_NAMESPACE];
/** Total time one ADD/CHECK may spend reaching the agent, retries included. */
export const DEFAULT_AGENT_TIMEOUT_MS = 5_000;
export const MAX_AGENT_TIMEOUT_MS = 60_000;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * CNI spec versions weft-cni speaks. It never converts results (it passes `prevResult` through
 * unchanged), so it supports every version whose result a chained plugin may receive: chaining and
 * `prevResult` exist since 0.3.0; STATUS and GC since 1.1.0.
 */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const LATEST_CNI_VERSION = '1.1.0';

/**
 * The runtime writes the config and closes stdin at once; these only bound a runtime that never does (or
 * sends far more than a config). The environment variables exist for tests and for debugging a runtime.
 */
export const STDIN_TIMEOUT_ENV = 'WEFT_CNI_STDIN_TIMEOUT_MS';
export const DEFAULT_STDIN_TIMEOUT_MS = 5_000;
export const MAX_STDIN_TIMEOUT_MS = 60_000;
export const STDIN_MAX_BYTES_ENV = 'WEFT_CNI_STDIN_MAX_BYTES';
export const DEFAULT_STDIN_MAX_BYTES = 4 * 1024 * 1024;
