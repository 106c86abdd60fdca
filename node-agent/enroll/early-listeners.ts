import { closeSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT } from '../../lib/names.js';
import { nativeNetns } from '../netns/native.js';
import type { ConnectOptions, SocketFactory } from '../netns/socket-factory.js';

/** The ports a captured pod's listeners use. */
const POD_PORTS = [OUTBOUND_PORT, INBOUND_PLAIN_PORT, HBONE_PORT] as const;

/**
 * Listening sockets a restarting agent opens in its enrolled pods' netns first thing, before the rest
 * of the agent has loaded (several seconds on a busy node). From then on the kernel completes the
 * handshakes of connections that arrive and queues them, instead of the capture rules holding their
 * SYNs until a retransmit (1 s, then 2, 4, 8 s apart), so they are served as soon as the agent is ready.
 * The pod proxies adopt these sockets when they start (`factory`); any left over are closed.
 * Best effort: a missing or unreadable state file opens nothing.
 */
export class EarlyListeners {
  private readonly fds = new Map<string, number>();

  /** Opens the listeners of every pod in `<stateDir>/enrollments.json` whose netns path exists. */
  static async open(stateDir: string): Promise<EarlyListeners> {
    const early = new EarlyListeners();
    let pods: unknown;
    try {
      pods = (JSON.parse(await readFile(join(stateDir, 'enrollments.json'), 'utf8')) as { pods?: unknown }).pods;
    } catch {
      return early;
    }
    if (!Array.isArray(pods)) return early;
    for (const p of pods as unknown[]) {
      const netns = (p as { netns?: unknown } | null)?.netns;
      // A `/proc/<pid>/ns/net` path may name a reused pid by now: left to the checked restore.
      if (typeof netns !== 'string' || /\/\d+\/ns\/net$/.test(netns) || !existsSync(netns)) continue;
      for (const port of POD_PORTS) {
        const key = `${netns}|${port}`;
        if (early.fds.has(key)) continue;
        try {
          early.fds.set(key, nativeNetns().listenInNetns(netns, '0.0.0.0', port, { reusePort: true }));
        } catch {
          // the pod is gone or the port taken: its restore reports it
        }
      }
    }
    return early;
  }

  get size(): number {
    return this.fds.size;
  }

  /** Wraps a pod's factory so that its listeners adopt the early sockets of that netns. */
  factory(netns: string, inner: SocketFactory): SocketFactory {
    return {
      where: inner.where,
      listen: (host: string, port: number, options?: { reusePort?: boolean }): Promise<Server> => {
        const key = `${netns}|${port}`;
        const fd = host === '0.0.0.0' ? this.fds.get(key) : undefined;
        if (fd === undefined) return inner.listen(host, port, options);
        this.fds.delete(key);
        return adopt(fd);
      },
      connect: (address: string, port: number, options?: ConnectOptions): Socket => inner.connect(address, port, options),
    };
  }

  /** Closes the sockets no pod took (their pods were not restored); returns how many. */
  closeRest(): number {
    const n = this.fds.size;
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.fds.clear();
    return n;
  }
}

function adopt(fd: number): Promise<Server> {
  const server = createServer({ allowHalfOpen: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

// The process's set, opened by the entrypoint (main.ts) before the agent module loads and read by it.
let opened = new EarlyListeners();

/** Opens the early listeners of `stateDir` for this process (main.ts, first thing). */
export async function openEarlyListeners(stateDir: string): Promise<EarlyListeners> {
  opened = await EarlyListeners.open(stateDir);
  return opened;
}

/** This process's early listeners (empty unless main.ts opened some). */
export function earlyListeners(): EarlyListeners {
  return opened;
}
