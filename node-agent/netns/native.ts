import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node agent's N-API addon (`node-agent/native/weft_netns.c`): socket creation inside another network
 * namespace, SO_MARK, IP_TRANSPARENT, SO_ORIGINAL_DST. Errors are thrown as `Error` with `code` = errno
 * name (`ENOENT`, `EADDRINUSE`, `EPERM`, ...).
 */
export interface ListenOptions {
  readonly reusePort?: boolean;
  readonly transparent?: boolean;
  readonly backlog?: number;
}

export interface ConnectSocketOptions {
  /** SO_MARK value; the agent's own sockets carry 0x539 so capture rules let them through. */
  readonly mark?: number;
  /** IP_TRANSPARENT: allows binding to a non-local source address (the original client's IP). */
  readonly transparent?: boolean;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  /** 6 for an IPv6 socket when no bindAddress says so. */
  readonly family?: 4 | 6;
}

export interface NativeNetns {
  listenInNetns(netnsPath: string, host: string, port: number, options?: ListenOptions): number;
  connectSocketInNetns(netnsPath: string, options?: ConnectSocketOptions): number;
  originalDst(fd: number): { address: string; port: number };
  /**
   * Sets net.ipv4.tcp_migrate_req=1 in the netns: a closing SO_REUSEPORT listener's queued connections
   * move to another listener of its group (the successor agent's) instead of being reset.
   */
  enableListenerMigration(netnsPath: string): void;
  /**
   * Installs or refreshes a pod's capture over netlink (node-agent/native/capture.c): the nftables table
   * captureRules() describes, in one transaction, and the fwmark policy rule + local route. No process
   * is started. Throws with the errno name and the step (`nftables`, `rtnetlink`, `setns`, ...).
   */
  installCapture(netnsPath: string, spec: NativeCaptureSpec): void;
  /** The netns' IPv4 default gateway (main table) by a netlink route dump; undefined when there is none. */
  defaultGateway(netnsPath: string): string | undefined;
  /** Bytes free inside glibc malloc's arenas (mallinfo2); undefined with another C library. */
  mallocFreeBytes(): number | undefined;
  /** malloc_trim(0): gives those free pages back to the kernel; true when any were released. */
  mallocTrim(): boolean;
  /** Critical memory-pressure notification to V8: a full GC that gives free heap pages back. */
  releaseV8Memory(): void;
}

/** Everything installCapture writes comes from here (node-agent/enroll/capture.ts owns the numbers). */
export interface NativeCaptureSpec {
  readonly table: string;
  readonly agentMark: number;
  readonly markMask: number;
  readonly connmark: number;
  readonly routeTable: number;
  readonly rulePref: number;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly hbonePort: number;
  /** At most 8 IPv4 and 8 IPv6 addresses. */
  readonly probeSources: readonly string[];
}

let loaded: NativeNetns | undefined;

/** Loads the addon once. Works from the source tree and from dist/ (both find the repo root). */
export function nativeNetns(): NativeNetns {
  if (loaded) return loaded;
  const rel = join('node-agent', 'native', 'build', 'Release', 'weft_netns.node');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, rel)); i++) dir = dirname(dir);
  const path = join(dir, rel);
  if (!existsSync(path)) {
    throw new Error(`weft node agent addon not built: ${rel} is missing; run \`npm run build:native\``);
  }
  loaded = createRequire(import.meta.url)(path) as NativeNetns;
  return loaded;
}
