// Gateway API Duration (GEP-2257), as HTTPRoute timeouts and retry backoff carry it and as weft's retry
// annotation accepts it: one to four `<digits><unit>` parts, unit h, m, s or ms (`10s`, `1h30m`, `500ms`).

export const GATEWAY_DURATION = /^(?:\d{1,5}(?:h|m|s|ms)){1,4}$/;

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** The duration in ms, or undefined when `d` is not a Gateway API duration. */
export function gatewayDurationMs(d: string): number | undefined {
  if (!GATEWAY_DURATION.test(d)) return undefined;
  let ms = 0;
  for (const m of d.matchAll(/(\d+)(ms|h|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}
