/**
 * CNI spec versions weft-cni speaks. It never converts results (it passes `prevResult` through
 * unchanged), so it supports every version whose result a chained plugin may receive: chaining and
 * `prevResult` exist since 0.3.0; STATUS and GC since 1.1.0.
 */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const LATEST_CNI_VERSION = '1.1.0';

export function isSupportedVersion(v: unknown): v is string {
  return typeof v === 'string' && SUPPORTED_CNI_VERSIONS.includes(v);
}
