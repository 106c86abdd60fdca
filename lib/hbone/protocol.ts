import { constants as h2c } from 'node:http2';

// The wire contract of HBONE (ARCHITECTURE.md "HBONE"): HTTP/2 CONNECT over mutual TLS 1.3, ALPN h2.

export { HBONE_PORT } from '../names.js';
export const ALPN_H2 = ['h2'];

/**
 * Per-stream flow-control window (ztunnel uses the same). Sized above the bandwidth-delay product of a
 * node-to-node hop (10 Gbit/s × 1 ms RTT = 1.25 MB), so one stream is never window-bound; it is also
 * the most a peer can make us buffer for one stream whose destination does not read. Advertised by both
 * client and server (H2_SETTINGS.initialWindowSize).
 */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** Per-session (connection) flow-control window: four streams at full window; both sides set it with
 *  `session.setLocalWindowSize` once the session is up (the HTTP/2 default is 64 KiB). */
export const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
// SETTINGS_MAX_FRAME_SIZE stays at the 16 KiB default on purpose: Node's nghttp2 binding never sends a
// DATA frame above 16 KiB whatever the peer allows (measured on Node 20.20: a 256 KiB max frame size
// advertised by the receiver left every frame at ≤ 16 384 bytes), so a larger value changes nothing
// between weft peers. What the per-frame cost was, one write syscall per frame on the receiving side, is
// batched away in pipe.ts (burst-cork.ts) instead.
/** The client opens a new session once one carries this many streams. */
export const MAX_STREAMS_PER_SESSION = 100;
/** What the server allows per session; above the client's limit so a stream that closed on the client but
 *  not yet on the server never gets REFUSED_STREAM, yet bounded so one peer cannot open unbounded streams. */
export const SERVER_MAX_CONCURRENT_STREAMS = 1000;
/** Node's http2 caps buffered data per session (default 10 MB); a full 16 MiB window must fit. */
export const MAX_SESSION_MEMORY_MB = 64;

export const IDLE_TIMEOUT_MS = 5 * 60 * 1000;
export const PING_INTERVAL_MS = 10_000;
export const PING_TIMEOUT_MS = 20_000;
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Response header carrying a human-readable reason on every non-200 answer (401/403/503/400/405), e.g.
 * `x-weft-reason: denied by policy ns1/deny-all`. Clients surface it in the WeftError they raise.
 */
export const REASON_HEADER = 'x-weft-reason';
/** Response header carrying the short flag (DENY, CONNECT, TLS, ...) of a refusal, for access logs. */
export const FLAG_HEADER = 'x-weft-flag';

/**
 * GOAWAY error code the server sends when it refuses the client's certificate after the TLS 1.3 handshake
 * (the client only learns of it one round trip later); the GOAWAY's opaque data carries
 * `<ERR_WEFT_HBONE_TLS_* code> <message>` so the client can say why.
 */
export const GOAWAY_TLS_REFUSED = h2c.NGHTTP2_INADEQUATE_SECURITY;

export const H2_SETTINGS = {
  initialWindowSize: STREAM_WINDOW_BYTES,
  enablePush: false,
} as const;
