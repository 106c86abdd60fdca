import { defineCodes } from '../spec.js';

// HBONE: HTTP/2 CONNECT over mutual TLS 1.3 between node agents and waypoints (lib/hbone). Each TLS
// refusal has its own code so that logs and tests say WHICH check failed, not just "handshake failed".
export const hboneCodes = defineCodes({
  ERR_WEFT_HBONE_TLS_UNKNOWN_CA: {
    message: 'the {side} certificate of {peer} does not chain to a trusted root ({detail})',
    hint: 'Both ends must trust the same mesh CA: check the trust bundle (--ca-root) and that the peer was issued by this cluster\'s control plane.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_SAN_MISMATCH: {
    message: 'the server at {peer} presented identity {actual}, expected {expected}',
    hint: 'The next hop is not the workload the destination state names: stale endpoints, an address reused by another pod, or a man in the middle.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_EXPIRED: {
    message: 'the {side} certificate of {peer} expired ({detail})',
    hint: 'The peer stopped renewing its workload certificate: check that its node agent reaches the control plane, and the clocks of both machines.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_NOT_YET_VALID: {
    message: 'the {side} certificate of {peer} is not valid yet ({detail})',
    hint: 'A clock is behind: compare the clocks of both machines (certificates are backdated only 5 minutes).',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_SELF_SIGNED: {
    message: 'the {side} certificate of {peer} is self-signed ({detail})',
    hint: 'The peer uses a certificate it made itself instead of one from the mesh CA; it is not a weft data plane or it is misconfigured.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT: {
    message: 'the client {peer} presented no certificate',
    hint: 'HBONE needs mutual TLS: the client must present its workload certificate (plain TLS clients are refused).',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_PEER_IDENTITY: {
    message: 'the certificate of {peer} carries no single SPIFFE ID ({detail})',
    hint: 'Workload certificates carry exactly one URI SAN spiffe://<td>/ns/<ns>/sa/<sa>; this one was not issued by a weft CA for a workload.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER: {
    message: '{peer} refused this side\'s certificate: {reason}',
    hint: 'The peer does not accept our workload certificate: check our certificate (expiry, CA) against the peer\'s trust bundle; the peer logs the exact reason.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_TLS_HANDSHAKE: {
    message: 'TLS handshake with {peer} failed: {detail}',
    hint: 'The peer does not speak TLS 1.3 with ALPN h2 on this port; check that the port is an HBONE port (15008).',
    http: 502,
    flag: 'TLS',
  },
  ERR_WEFT_HBONE_ALPN: {
    message: '{peer} did not negotiate HTTP/2 (ALPN {alpn})',
    hint: 'The listener is not an HBONE server; check the next-hop port.',
    http: 502,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_CONNECT_FAILED: {
    message: 'could not reach {peer}: {detail}',
    hint: 'The next hop is down or unreachable: check that its node agent or waypoint runs and that nothing (NetworkPolicy, firewall) blocks the HBONE port 15008.',
    http: 503,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_TIMEOUT: {
    message: '{what} with {peer} did not finish within {ms} ms',
    hint: 'The next hop is overloaded or packets are dropped on the way; check its health and whether the HBONE port is reachable.',
    http: 504,
    flag: 'TIMEOUT',
  },
  ERR_WEFT_HBONE_DENIED: {
    message: '{peer} refused CONNECT {authority} with {status}: {reason}',
    hint: 'An authorization policy at the destination denies this source identity; see the reason and the destination\'s AuthorizationPolicies.',
    http: 403,
    flag: 'DENY',
  },
  ERR_WEFT_HBONE_SELF_TARGET: {
    message: 'CONNECT {authority} refused: {reason}',
    hint: 'The tunnel would lead back into this proxy (its own HBONE or capture ports, or loopback) and loop; ask for the application\'s address and port.',
    http: 403,
    flag: 'SELF_CALL',
  },
  ERR_WEFT_HBONE_UNAVAILABLE: {
    message: '{peer} could not reach {authority} (503): {reason}',
    hint: 'The destination workload does not accept connections on that port, or it is not on the node the state says.',
    http: 503,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_REJECTED: {
    message: '{peer} answered CONNECT {authority} with {status}: {reason}',
    hint: 'The HBONE server refused the request itself (bad :authority, wrong method); this is a bug in the client or a non-weft server.',
    http: 502,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_STREAM_RESET: {
    message: 'the tunnel to {peer} for {authority} was reset before it opened ({detail})',
    hint: 'The HBONE server dropped the stream: it is shutting down, overloaded (stream limit), or crashed; check its log.',
    http: 502,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_TUNNEL_RESET: {
    message: 'the tunnel to {peer} for {authority} was reset by the far end after it opened (RST_STREAM {rstCode})',
    hint: 'The destination accepted the tunnel, then gave up on it: its own connection to the application failed or was reset, a policy change closed it, or (a waypoint) the Service had no endpoint that answered; the far end\'s access log names the reason.',
    http: 502,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_SESSION_CLOSED: {
    message: 'the HBONE session to {peer} closed: {detail}',
    hint: 'The peer went away (restart, GOAWAY, idle timeout) or a keep-alive PING was not answered; new tunnels open a new session.',
    http: 502,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_POOL_CLOSED: {
    message: 'the HBONE pool is closed',
    hint: 'The process is shutting down; no new tunnels are opened.',
    http: 503,
    flag: 'CONNECT',
  },
  ERR_WEFT_HBONE_BAD_AUTHORITY: {
    message: 'CONNECT :authority {authority} is not <ip>:<port>',
    hint: 'HBONE tunnels name the original destination as an IP literal and a port, e.g. 10.244.1.5:8080 or [fd00::5]:80.',
    http: 400,
    flag: 'BAD_REQUEST',
  },
  ERR_WEFT_HBONE_METHOD_NOT_ALLOWED: {
    message: 'HBONE accepts only CONNECT, got {method}',
    hint: 'Something sent plain HTTP/2 requests to an HBONE port (15008); send them to the application instead.',
    http: 405,
    flag: 'BAD_REQUEST',
  },
});
