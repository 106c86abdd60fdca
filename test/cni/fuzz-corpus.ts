// The fuzzed inputs for weft-cni (used by cni-fuzz against the selected build and by cni-native-asan
// against the sanitizer build): seeded, so a failure reproduces from its case number. Valid configs
// mutated by field and by byte, odd environments, and the check every outcome must pass: success or a
// well-formed CNI error with a spec/weft code — never a crash, an internal-error code, or a wait past the
// config's deadline.
import { join } from 'node:path';
import { expect } from 'vitest';
import { mulberry32 } from '../support/prng.js';
import { BRIDGE_RESULT, podEnv, SANITIZER_REPORT } from './run-plugin.js';

export const KNOWN_CODES = new Set([1, 4, 6, 7, 11, 50, 100, 101, 102]);

export interface FuzzCase {
  env: Record<string, string>;
  stdin: string;
  /** The longest the plugin may legitimately wait on the agent for this input. */
  budgetMs: number;
}

export function makeCase(i: number, socket: string, logDir: string): FuzzCase {
  const r = mulberry32(i + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const junk = (): unknown =>
    pick([null, true, 0, -1, 1.5, 1e308, '', 'x'.repeat(Math.floor(r() * 300)), '\u0000', '../../etc', [], [1, 'a'], {}, { a: { b: [null] } }, NaN, 'ADD', { '1': 2, b: [1e21, 5e-7, -0] }, '\ud83d\ude00\ud800']);
  const config: Record<string, unknown> = {
    cniVersion: pick(['1.0.0', '1.1.0', '0.4.0', '0.3.1']),
    name: 'fuzz',
    type: 'weft-cni',
    cni_socket: socket,
    agent_timeout_ms: 300,
    prevResult: structuredClone(BRIDGE_RESULT),
  };
  const fields = ['cniVersion', 'name', 'type', 'cni_socket', 'exclude_namespaces', 'agent_timeout_ms', 'log_level', 'log_file', 'prevResult', 'runtimeConfig', 'args'];
  for (let n = Math.floor(r() * 4); n > 0; n--) {
    const f = pick(fields);
    const roll = r();
    if (roll < 0.25) delete config[f];
    else if (f === 'log_file') config[f] = pick([join(logDir, `l${i}.log`), 7, '', '\u0000x']);
    // Valid timeouts stay small so the run is bounded; big numbers are invalid (over the 60 s cap).
    else if (f === 'agent_timeout_ms') config[f] = pick([1, 50, 400, 0, -5, 1.5, 1e9, '300', null]);
    else if (f === 'prevResult' && roll < 0.6) config[f] = { ...BRIDGE_RESULT, [pick(['ips', 'interfaces', 'routes', 'dns', 'cniVersion'])]: junk() };
    else config[f] = junk();
  }
  let stdin = JSON.stringify(config);
  const mode = r();
  if (mode < 0.2) {
    // Byte-level damage: flips, cuts, inserts.
    const chars = [...stdin];
    for (let n = 1 + Math.floor(r() * 5); n > 0; n--) {
      const at = Math.floor(r() * chars.length);
      const op = r();
      if (op < 0.33) chars[at] = String.fromCharCode(Math.floor(r() * 128));
      else if (op < 0.66) chars.splice(at, 1 + Math.floor(r() * 10));
      else chars.splice(at, 0, pick(['{', '}', '"', ',', ':', '\\', '\u00ff', '\ud800', '\\u', '\\ud800', '1e', '-']));
    }
    stdin = chars.join('');
  } else if (mode < 0.25) stdin = stdin.slice(0, Math.floor(r() * stdin.length));
  else if (mode < 0.28) stdin = pick(['', 'null', '[]', '0', '"', '{}', '{"cniVersion":"1.0.0"}', '\u0000\u0001', '['.repeat(600), '{"a":'.repeat(600)]);

  const env = podEnv(pick(['ADD', 'ADD', 'ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION', 'add', '', 'X'.repeat(50)]));
  const envField = pick(['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'none', 'none', 'none']);
  if (envField !== 'none') {
    const v = pick([undefined, '', ';;;', '=', 'K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=x', 'a'.repeat(20), '..', 'a b', String.fromCharCode(Math.floor(r() * 65536))]);
    if (v === undefined) delete env[envField];
    else env[envField] = v;
  }
  const t = config.agent_timeout_ms;
  const budgetMs = typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= 60_000 ? t : 5_000;
  return { env, stdin, budgetMs };
}

/** Checks one outcome; returns its CNI code (0 for success). */
export function checkOutcome(c: FuzzCase, out: { stdout: string; stderr: string; exitCode: number | null }, ms: number): number {
  expect(out.stderr, `sanitizer report for ${JSON.stringify(c)}`).not.toMatch(SANITIZER_REPORT);
  expect(out.stderr).not.toMatch(/\n\s+at /); // no stack traces
  expect([0, 1], `exit code for ${JSON.stringify(c)}: ${out.stderr.slice(0, 2000)}`).toContain(out.exitCode);
  if (out.exitCode === 1) {
    const err = JSON.parse(out.stdout) as { cniVersion: unknown; code: unknown; msg: unknown; details: unknown };
    expect(KNOWN_CODES.has(err.code as number), `code ${String(err.code)} for ${JSON.stringify(c)}: ${out.stdout}`).toBe(true);
    expect(typeof err.msg).toBe('string');
    expect(typeof err.details).toBe('string');
    expect(typeof err.cniVersion).toBe('string');
  } else if (out.stdout !== '') {
    expect(typeof JSON.parse(out.stdout)).toBe('object');
  }
  // Generous slack for a loaded 2-core machine; a hang would blow through it by far.
  expect(ms, `time for ${JSON.stringify(c)}`).toBeLessThan(c.budgetMs + 10_000);
  return out.exitCode === 0 ? 0 : (JSON.parse(out.stdout) as { code: number }).code;
}
