import { defineCodes } from '../spec.js';

// Control plane services (identity, discovery) and their clients in the data planes.
export const controlCodes = defineCodes({
  ERR_WEFT_CONTROL_WAYPOINT_PARAMETERS: {
    message: 'the parameters of GatewayClass {gatewayClass} cannot be used: {reason}',
    hint: 'Fix the GatewayClass\'s spec.parametersRef or the ConfigMap it names (the chart renders ConfigMap weft-waypoint in its namespace; `helm upgrade` restores it). Until then no waypoint Deployment is changed or created.',
  },
  ERR_WEFT_CONTROL_TOKEN_MISSING: {
    message: 'no bearer token in the `authorization` metadata of {method}',
    hint: 'The caller must send `authorization: Bearer <token>`; check --token-file on the node agent or waypoint.',
    grpc: 16,
  },
  ERR_WEFT_CONTROL_TOKEN_INVALID: {
    message: 'token rejected: {reason}',
    hint: 'The token is malformed, signed by an unknown key, expired or for another audience; mint a new one with audience `weft` (directory mode: the key passed as --token-public-key).',
    grpc: 16,
    flag: 'AUTHN',
  },
  ERR_WEFT_CONTROL_TOKEN_REVIEW_FAILED: {
    message: 'TokenReview failed: {reason}',
    hint: 'The Kubernetes API server did not answer the TokenReview; check that weft-control can reach it and has RBAC for tokenreviews.create.',
    grpc: 14,
  },
  ERR_WEFT_CONTROL_PERMISSION_DENIED: {
    message: '{caller} may not obtain a certificate for {identity}: {reason}',
    hint: 'A node agent gets certificates only for service accounts of pods scheduled on its own node; a waypoint only for its own service account.',
    grpc: 7,
    flag: 'DENY',
  },
  ERR_WEFT_CONTROL_BAD_REQUEST: {
    message: 'invalid request: {reason}',
    hint: 'The request is malformed; check the data plane and control plane versions match.',
    grpc: 3,
  },
  ERR_WEFT_CONTROL_UNAVAILABLE: {
    message: 'control plane {address} unavailable: {reason}',
    hint: 'weft-control is down or unreachable; check that it runs and that --control and --ca-root point at it. The data plane keeps its last state meanwhile.',
    grpc: 14,
    flag: 'CONTROL',
  },
  ERR_WEFT_CONTROL_INVALID_RESOURCE: {
    message: 'discovery sent an invalid {kind}: {reason}',
    hint: 'The control plane and this data plane disagree on the model; run matching versions.',
    grpc: 3,
  },
  ERR_WEFT_CONTROL_RATE_LIMITED: {
    message: '{caller} made more {method} calls than allowed ({burst} at once, {rate}/s sustained per caller); retry in {retryAfterMs} ms',
    hint: 'The caller is asking far more often than it needs to (a renewal loop, or a restart storm); it should back off. If the load is legitimate, raise --certify-burst / --certify-rate on weft-control.',
    grpc: 8,
  },
  ERR_WEFT_CONTROL_NOT_READY: {
    message: 'control plane not ready: {reason}',
    hint: 'The cluster-state source has not synced or the CA is not loaded yet; retry shortly.',
    grpc: 14,
  },
});
