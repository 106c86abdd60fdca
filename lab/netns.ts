import { readdir } from 'node:fs/promises';
import { run } from './command.js';

/** Network namespaces through iproute2: the names live in /run/netns, which is what `down` scans. */
export const NETNS_DIR = '/run/netns';

export async function listNetns(prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(NETNS_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).sort();
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns(name)).includes(name);
}

/** Creates the namespace unless it exists (idempotent `up`), and brings its loopback up. */
export async function ensureNetns(name: string): Promise<boolean> {
  if (await netnsExists(name)) return false;
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return true;
}

export async function deleteNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'del', name], { allowFailure: true });
}

/** argv that runs `argv` inside the namespace (with /etc/netns/<name>/* bind-mounted over /etc). */
export function inNetns(name: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', name, ...argv];
}

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** Pids of processes whose network namespace is `name` (`ip netns pids`), for leftover sweeps. */
export async function netnsPids(name: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', name], { allowFailure: true });
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

export async function sysctl(ns: string, key: string, value: string): Promise<void> {
  await run(inNetns(ns, ['sysctl', '-q', '-w', `${key}=${value}`]));
}
