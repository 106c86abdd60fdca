import type { CertificateSummary } from '../../lib/identity/index.js';
import type { PolicyRow, WorkloadRow } from '../../lib/admin/index.js';

/**
 * `weft get workloads|policies|certificates|config`: which admin path each kind reads, what of the answer
 * `-o json` prints, and the table people read. The component builds the rows (lib/admin/mesh-views.ts);
 * here they are only laid out.
 */
export const GET_KINDS = ['workloads', 'policies', 'certificates', 'config'] as const;
export type GetKind = (typeof GET_KINDS)[number];

export interface GetView {
  readonly path: string;
  /** The part of the answer that `-o json|yaml` prints. */
  data(answer: unknown): unknown;
  readonly headers: readonly string[];
  rows(answer: unknown, now: number): string[][];
}

export const GET_VIEWS: Readonly<Record<GetKind, GetView>> = {
  workloads: {
    path: '/debug/workloads',
    data: (a) => (a as { workloads: WorkloadRow[] }).workloads,
    headers: ['NAMESPACE', 'NAME', 'IP', 'NODE', 'IDENTITY', 'CAPTURED', 'WAYPOINT'],
    rows: (a) =>
      (a as { workloads: WorkloadRow[] }).workloads.map((w) => [w.namespace, w.name, w.ips.join(',') || '-', w.node || '-', w.identity, w.captured ? 'yes' : 'no', w.waypoint ?? '-']),
  },
  policies: {
    path: '/debug/policies',
    data: (a) => (a as { policies: PolicyRow[] }).policies,
    headers: ['NAMESPACE', 'NAME', 'SCOPE', 'ACTION', 'RULES', 'DRY-RUN'],
    rows: (a) => (a as { policies: PolicyRow[] }).policies.map((p) => [p.namespace, p.name, p.scope, p.action, String(p.rules), p.dryRun ? 'yes' : 'no']),
  },
  certificates: {
    path: '/debug/certificates',
    data: (a) => (a as { certificates: CertificateSummary[] }).certificates,
    headers: ['IDENTITY', 'SERIAL', 'NOT BEFORE', 'NOT AFTER', 'EXPIRES IN', 'ROOT SHA-256'],
    rows: (a, now) =>
      (a as { certificates: CertificateSummary[] }).certificates.map((c) => [
        c.identity,
        c.serial,
        c.notBefore,
        c.notAfter,
        formatDuration((Date.parse(c.notAfter) - now) / 1000),
        c.rootFingerprint ?? 'not under a trusted root',
      ]),
  },
  config: {
    path: '/config_dump',
    data: (a) => (a as { config?: unknown }).config ?? {},
    headers: ['KEY', 'VALUE'],
    rows: (a) => flatten((a as { config?: unknown }).config ?? {}, ''),
  },
};

/** `23h59m`, `4m10s`, `expired 5m ago`. */
export function formatDuration(seconds: number): string {
  if (seconds < 0) return `expired ${formatDuration(-seconds)} ago`;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

/** Nested config as dotted keys, one row per leaf value (arrays joined by commas). */
export function flatten(value: unknown, prefix: string): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const text = Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',') : value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
    return [[prefix, text]];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return prefix === '' ? [] : [[prefix, '{}']];
  return entries.flatMap(([k, v]) => flatten(v, prefix === '' ? k : `${prefix}.${k}`));
}
