import type { EventEmitter } from 'node:events';
import type { ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { WeftError } from '../errors/index.js';
import type { SpiffeId, WorkloadCertificate } from '../identity/index.js';
import type { Logger } from '../telemetry/log.js';
import type { TunnelTarget } from './authority.js';
import type { TunnelResult } from './pipe.js';

// The HBONE server's contract (server.ts implements it): what a tunnel carries through the hooks, the
// options, and the server's methods and events.

/** What the server knows about a tunnel request. */
export interface TunnelInfo {
  /** The client's SPIFFE ID, read once per TLS session (null only for a session without identity). */
  readonly peer: SpiffeId | null;
  readonly target: TunnelTarget;
  /** Original client IP from `forwarded: for=`. */
  readonly forwardedFor: string | undefined;
  readonly traceparent: string | undefined;
  /** TCP peer of the HBONE connection (the source node agent or waypoint). */
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

/**
 * One tunnel as it flows through the hooks: `authorize` returns the context (what it looked up to decide:
 * the destination's connection record, the resolved Service, ...), `connectUpstream` and `onTunnel` get it
 * back with the tunnel, so no hook repeats a lookup or keeps a side table keyed by the tunnel.
 */
export interface Tunnel<C> extends TunnelInfo {
  readonly context: C;
}

/** A tunnel answered 200; `upstream` is what `connectUpstream` made (undefined without that hook). */
export interface AcceptedTunnel<C, U extends Duplex = Duplex> extends Tunnel<C> {
  readonly upstream: U | undefined;
}

/** Who decided a refusal: the server itself (TLS, method, authority, self-target) or a hook. */
export type RefusedBy = 'server' | 'authorize' | 'connectUpstream';

/**
 * The `authorize` hook's answer. A refusal is a coded error (its `http` status and `flag` go into the reply),
 * or a bare status and reason (coded ERR_WEFT_HBONE_DENIED for 401/403, ERR_WEFT_HBONE_UNAVAILABLE for 503).
 */
export type AuthorizeResult<C = undefined> =
  | (undefined extends C ? { readonly allow: true; readonly context?: C } : { readonly allow: true; readonly context: C })
  | { readonly allow: false; readonly status: 401 | 403 | 503; readonly reason: string }
  | { readonly allow: false; readonly error: WeftError };

interface HboneServerBaseOptions<C, U extends Duplex> {
  /** The listener's certificate (for the destination workload's identity). `setCertificate` swaps it. */
  readonly certificate: WorkloadCertificate;
  /** Picks another certificate when a client sends SNI (none of weft's clients do; for shared listeners). */
  readonly certificateFor?: (ctx: { servername: string }) => WorkloadCertificate | Promise<WorkloadCertificate>;
  /** PEM roots client chains must lead to. `setTrustRoots` swaps them (root rotation). */
  readonly trustRoots: readonly string[];
  /** Connects to the destination before answering: failure answers 503 (unreachable destination). */
  readonly connectUpstream?: (target: TunnelTarget, tunnel: Tunnel<C>) => Promise<U>;
  /** Gets each tunnel after `200` was sent. Without it, the server pipes the tunnel to `upstream` itself. */
  readonly onTunnel?: (stream: ServerHttp2Stream, tunnel: AcceptedTunnel<C, U>) => void;
  /** Called when a tunnel the server piped itself ends, with byte counts (accounting, access log). */
  readonly onTunnelClosed?: (tunnel: AcceptedTunnel<C, U>, result: TunnelResult) => void;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** TLS handshakes that take longer are dropped (default 10 s); so are sessions whose HTTP/2 preface does not follow within the same time. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Ports of this process's own listeners (HBONE, capture). When given, a CONNECT to one of them on the
   * address the session came in on (or on `ownAddresses()`), or to any loopback or unspecified address,
   * is refused with 403 SELF_CALL before `authorize`: serving it would make the process connect to itself,
   * hop after hop. Without it no target is refused here (tests tunnel to loopback backends).
   */
  readonly ownPorts?: readonly number[];
  /** Further addresses the process's listeners are reachable on (a pod's IPs). */
  readonly ownAddresses?: () => readonly string[];
  /** A session with no open stream for this long is closed: GOAWAY, then close (default 5 min, like the client pool; 0 never). */
  readonly sessionIdleMs?: number;
}

type AuthorizeHook<C> = (peer: SpiffeId | null, target: TunnelTarget, info: TunnelInfo) => AuthorizeResult<C> | Promise<AuthorizeResult<C>>;

/**
 * `C` is the per-tunnel context `authorize` returns; a server whose context is not optional must have
 * `authorize` (nothing else could make one). `U` is the upstream type `connectUpstream` makes.
 */
export type HboneServerOptions<C = undefined, U extends Duplex = Duplex> = HboneServerBaseOptions<C, U> &
  (undefined extends C
    ? { /** Policy hook; default allows every authenticated peer. A throw answers 503. */ readonly authorize?: AuthorizeHook<C> }
    : { /** Policy hook; its context flows to `connectUpstream` and `onTunnel`. A throw answers 503. */ readonly authorize: AuthorizeHook<C> });

/**
 * Events: `refused` (err: WeftError, remoteAddress, by: RefusedBy) for every TLS/identity refusal and every
 * non-200; `by` says whether the server decided it or one of the hooks (which may have recorded it already).
 */
export interface HboneServer extends EventEmitter {
  /** Listens on a port (`listen(15008, '0.0.0.0')`) or adopts a listening fd (`listen({ fd })`). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  listen(handle: { fd: number }): Promise<AddressInfo>;
  /** Serves the connections of an existing listening net.Server (e.g. one made inside a pod netns). */
  attach(server: NetServer): void;
  /** Serves one connection accepted elsewhere (TLS is done here); after `close` it is destroyed. */
  serve(socket: Socket): void;
  address(): AddressInfo | null;
  setCertificate(certificate: WorkloadCertificate): void;
  setTrustRoots(roots: readonly string[]): void;
  /** Stops accepting; open tunnels get `graceMs` (default 5 s) to finish, then are reset. */
  close(options?: { graceMs?: number }): Promise<void>;
  stats(): { sessions: number; tunnels: number };
}
