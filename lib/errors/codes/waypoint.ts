import { defineCodes } from '../spec.js';

// Codes of the waypoint (weft-waypoint): routing, upstream failures, L7 authorization, bad requests.
export const waypointCodes = defineCodes({
  ERR_WEFT_WAYPOINT_BAD_REQUEST: {
    message: 'malformed or ambiguous HTTP request from {peer}: {reason}',
    hint: 'The client sent a request the waypoint refuses to forward (e.g. Content-Length with Transfer-Encoding, duplicate Content-Length, bad chunking, oversize headers). Fix the client; nothing was forwarded.',
    http: 400,
    flag: 'BAD_REQUEST',
  },
  ERR_WEFT_WAYPOINT_NO_SERVICE: {
    message: 'no Service bound to this waypoint has address {destination}',
    hint: 'The node agent sent traffic for a VIP:port this waypoint does not serve; check the `weft.dev/use-waypoint` label and that the control plane delivered the Service.',
    http: 503,
    flag: 'NO_SERVICE',
  },
  ERR_WEFT_WAYPOINT_NO_ROUTE: {
    message: 'no route of {service}:{port} matches {method} {path}',
    hint: 'Routes apply to this Service port and host but none of their rules matches the request (a port or host no route applies to passes through instead); check the route matches (prefix match is per path segment).',
    http: 404,
    grpc: 12,
    flag: 'NO_ROUTE',
  },
  ERR_WEFT_WAYPOINT_INVALID_BACKEND: {
    message: 'route {route} has no valid backend for this request: {reason}',
    hint: 'A backendRef of the matched rule does not resolve (missing Service or port) or all weights are 0; the Gateway API answers 500 for its share.',
    http: 500,
    grpc: 14,
    flag: 'INVALID_BACKEND',
  },
  ERR_WEFT_WAYPOINT_NO_ENDPOINT: {
    message: 'backend {backend} has no ready endpoint',
    hint: 'The backend Service selects no ready pod; check its selector and that its pods are Ready.',
    http: 503,
    grpc: 14,
    flag: 'NO_ENDPOINT',
  },
  ERR_WEFT_WAYPOINT_UPSTREAM: {
    message: 'upstream {endpoint} of {backend} failed: {reason}',
    hint: 'The endpoint refused or reset the connection (or its HBONE tunnel failed); check that the pod listens on its target port and that its node agent is healthy.',
    http: 503,
    grpc: 14,
    flag: 'UPSTREAM',
  },
  ERR_WEFT_WAYPOINT_TIMEOUT: {
    message: '{which} timeout of {ms} ms expired for {route}',
    hint: 'The backend answered too slowly for the route rule `timeouts` (request spans all retries, backendRequest each try); raise the timeout or fix the backend.',
    http: 504,
    grpc: 4,
    flag: 'TIMEOUT',
  },
  ERR_WEFT_WAYPOINT_DENIED: {
    // What the client sees: no policy name (internal detail); the waypoint's access log names policy and rule.
    message: 'RBAC: access denied',
    hint: 'An L7 AuthorizationPolicy bound to this waypoint or the Service denied the request (x-weft-reason: policy_denied); the waypoint\'s access log line for it names the policy and rule (docs/authorization.md).',
    http: 403,
    grpc: 7,
    flag: 'DENY',
  },
  ERR_WEFT_WAYPOINT_BAD_RESPONSE: {
    message: 'upstream {endpoint} sent a malformed HTTP/1.1 response: {reason}',
    hint: 'The endpoint broke HTTP/1.1 framing (invalid or repeated Content-Length, Content-Length with Transfer-Encoding, bad chunking, chunk extensions or trailers over 16 KiB, an oversize head); nothing of it was forwarded. Fix the application, or declare the port as plain TCP if it does not speak HTTP.',
    http: 502,
    grpc: 14,
    flag: 'BAD_RESPONSE',
  },
});
