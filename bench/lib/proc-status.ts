import { readFileSync } from 'node:fs';

/**
 * Fields of /proc/self/status as numbers (kB for the memory fields, a plain count for Threads; NaN when
 * the kernel does not report one): what `ps` and the kubelet see, without an inspector.
 */
export function procStatus(fields: readonly string[]): Record<string, number> {
  const text = readFileSync('/proc/self/status', 'utf8');
  return Object.fromEntries(fields.map((f) => [f, Number(new RegExp(`^${f}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN)]));
}
