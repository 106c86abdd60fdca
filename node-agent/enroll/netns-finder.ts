import { readdir, readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';

export interface NetnsFinderOptions {
  /** The host's procfs (`/proc`; `/host/proc` in the DaemonSet). */
  readonly hostProc: string;
  /** A scan's result is reused for this long (a reconcile asks for many pods at once). */
  readonly cacheMs?: number;
  /** Processes looked at per scan, at most (bounds time and memory on a crowded node). */
  readonly maxPids?: number;
  /** A scan stops here and answers with what it found so far. */
  readonly timeoutMs?: number;
  /** Files read at once. */
  readonly concurrency?: number;
}

/** One network namespace seen in a scan: the path to enter it and its local addresses. */
export interface FoundNetns {
  /** `<hostProc>/<pid>/ns/net` of the oldest process in it. */
  readonly path: string;
  readonly inode: number;
  readonly addresses: readonly string[];
}

interface Scan {
  readonly at: number;
  /** Normalised local address → netns. */
  readonly byAddress: ReadonlyMap<string, FoundNetns>;
}

/**
 * Finds the network namespace of a pod the agent has no netns path for (it ran before weft, or the
 * state file was lost) from the host's procfs, as istio-cni does: every process's `ns/net` is stat'ed
 * (one entry per inode, i.e. per namespace), and for each namespace `net/fib_trie` (IPv4) or
 * `net/if_inet6` (IPv6) of one of its processes lists the namespace's local addresses without entering
 * it. The namespace holding the pod IP is the pod's; `<hostProc>/<pid>/ns/net` of its oldest process
 * (the pod's app rather than a short `exec`) is the path to enter it.
 * Async I/O only, bounded in processes, parallelism and time; one scan serves every lookup for
 * `cacheMs`, and concurrent lookups share a scan in flight.
 */
export class NetnsFinder {
  private readonly cacheMs: number;
  private readonly maxPids: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private last: Scan | undefined;
  private inflight: Promise<Scan> | undefined;

  constructor(private readonly o: NetnsFinderOptions) {
    this.cacheMs = o.cacheMs ?? 2000;
    this.maxPids = o.maxPids ?? 65_536;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.concurrency = o.concurrency ?? 32;
  }

  /** The netns holding any of `ips` as a local address, or undefined when no process is in it. */
  async find(ips: readonly string[]): Promise<FoundNetns | undefined> {
    const wanted = ips.map(normalise).filter((a): a is string => a !== undefined);
    if (wanted.length === 0) return undefined;
    const scan = await this.scan(wanted.some((a) => a.includes(':')));
    for (const a of wanted) {
      const hit = scan.byAddress.get(a);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Whether `path`, a `<hostProc>/<pid>/ns/net` this finder handed out earlier (e.g. recorded in the
   * state file before a restart), still leads to a namespace holding one of `ips`: the process may have
   * ended and its pid been reused by a process of another namespace. Paths outside hostProc are not
   * judged (true).
   */
  async stillHolds(path: string, ips: readonly string[]): Promise<boolean> {
    const prefix = this.o.hostProc.endsWith('/') ? this.o.hostProc : `${this.o.hostProc}/`;
    if (!path.startsWith(prefix)) return true;
    const m = /^(\d+)\/ns\/net$/.exec(path.slice(prefix.length));
    if (!m) return true;
    const wanted = ips.map(normalise).filter((a): a is string => a !== undefined);
    const local = await this.localAddresses([Number(m[1])], wanted.some((a) => a.includes(':')));
    return wanted.some((a) => local.includes(a));
  }

  private scan(v6: boolean): Promise<Scan> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return Promise.resolve(this.last);
    this.inflight ??= this.run(v6).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async run(v6: boolean): Promise<Scan> {
    const deadline = Date.now() + this.timeoutMs;
    let names: string[];
    try {
      names = await readdir(this.o.hostProc);
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_HOST_PROC', { hostProc: this.o.hostProc, reason: (err as Error).message }, { cause: err });
    }
    const pids = names.filter((n) => /^[0-9]+$/.test(n)).map(Number);
    pids.sort((a, b) => a - b);
    if (pids.length > this.maxPids) pids.length = this.maxPids;
    // inode → pids in that namespace
    const byInode = new Map<number, number[]>();
    await this.each(pids, deadline, async (pid) => {
      try {
        const st = await stat(join(this.o.hostProc, String(pid), 'ns', 'net'));
        const list = byInode.get(st.ino);
        if (list) list.push(pid);
        else byInode.set(st.ino, [pid]);
      } catch {
        // the process ended, or is not ours to look at (kernel thread, no permission): skip it
      }
    });
    const byAddress = new Map<string, FoundNetns>();
    await this.each([...byInode], deadline, async ([inode, members]) => {
      const addresses = await this.localAddresses(members, v6);
      if (addresses.length === 0) return;
      const path = join(this.o.hostProc, String(await this.oldest(members)), 'ns', 'net');
      const found: FoundNetns = { path, inode, addresses };
      for (const a of addresses) if (!byAddress.has(a)) byAddress.set(a, found);
    });
    const scan = { at: Date.now(), byAddress };
    this.last = scan;
    return scan;
  }

  /** Local addresses of a namespace, read through the first of its processes that still exists. */
  private async localAddresses(pids: readonly number[], v6: boolean): Promise<string[]> {
    for (const pid of pids.slice(0, 4)) {
      const dir = join(this.o.hostProc, String(pid), 'net');
      try {
        const out = parseFibTrieLocal(await readFile(join(dir, 'fib_trie'), 'utf8'));
        if (v6) out.push(...parseIfInet6(await readFile(join(dir, 'if_inet6'), 'utf8').catch(() => '')));
        return out;
      } catch {
        // gone meanwhile: try the next process of the same namespace
      }
    }
    return [];
  }

  /** The process that started first (field 22 of stat); a pod's app outlives `exec`s into the pod. */
  private async oldest(pids: readonly number[]): Promise<number> {
    if (pids.length === 1) return pids[0];
    let best = pids[0];
    let bestStart = Number.POSITIVE_INFINITY;
    for (const pid of pids.slice(0, 16)) {
      try {
        const text = await readFile(join(this.o.hostProc, String(pid), 'stat'), 'utf8');
        const start = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
        if (start < bestStart) {
          bestStart = start;
          best = pid;
        }
      } catch {
        // gone
      }
    }
    return best;
  }

  /** Runs `fn` over `items`, `concurrency` at a time, stopping at `deadline`. */
  private async each<T>(items: readonly T[], deadline: number, fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && Date.now() < deadline) await fn(items[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }
}

/**
 * The LOCAL host addresses in `/proc/<pid>/net/fib_trie`: an address line `|-- 10.244.1.5` followed by
 * its prefix lines, one of which reads `/32 host LOCAL` when the address is the namespace's own.
 */
export function parseFibTrieLocal(text: string): string[] {
  const out = new Set<string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('|-- ')) last = t.slice(4);
    else if (last !== undefined && t.startsWith('/32 host LOCAL')) out.add(last);
  }
  out.delete('127.0.0.1');
  return [...out].filter((a) => !a.startsWith('127.'));
}

/** Addresses in `/proc/<pid>/net/if_inet6` (32 hex digits per line), normalised; loopback left out. */
export function parseIfInet6(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[0];
    if (!/^[0-9a-f]{32}$/i.test(hex)) continue;
    const a = normalise(hex.match(/.{4}/g)!.join(':'));
    if (a !== undefined && a !== '0:0:0:0:0:0:0:1') out.push(a);
  }
  return out;
}

/** One spelling per address: IPv4 as is, IPv6 as eight unpadded lower-case groups. */
export function normalise(ip: string): string | undefined {
  const kind = isIP(ip);
  if (kind === 4) return ip;
  if (kind !== 6) return undefined;
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = s.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}
