import { defineCodes } from '../spec.js';

// Codes of the node agent (weft-node-agent): enrollment, capture, and the L4 data path. `flag` is the
// short label shared by the access log, the metrics and the HBONE error response's reason header.
export const agentCodes = defineCodes({
  ERR_WEFT_AGENT_ENROLL_INVALID: {
    message: 'invalid enrollment request: {reason}',
    hint: 'The CNI plugin sent a request the agent cannot read; make sure weft-cni and the node agent come from the same weft release.',
    http: 400,
    cni: 102,
  },
  ERR_WEFT_AGENT_NETNS_MISSING: {
    message: 'network namespace {netns} of pod {pod} does not exist: {reason}',
    hint: 'The pod sandbox is gone or CNI_NETNS is wrong; the runtime retries ADD with a fresh sandbox.',
    http: 400,
    cni: 103,
  },
  ERR_WEFT_AGENT_CAPTURE_FAILED: {
    message: 'cannot install traffic capture in {netns} for pod {pod}: {reason}',
    hint: 'The agent needs nftables (`nft`) and iproute2 (`ip`, `nsenter`) and CAP_NET_ADMIN + CAP_SYS_ADMIN; check the node-agent container image and securityContext.',
    http: 500,
    cni: 104,
  },
  ERR_WEFT_AGENT_LISTEN_FAILED: {
    message: 'cannot listen on port {port} in {netns} for pod {pod}: {reason}',
    hint: 'Another process in the pod holds a weft port (15001, 15006, 15008); weft needs those ports free in captured pods.',
    http: 500,
    cni: 105,
  },
  ERR_WEFT_AGENT_STATE_FILE: {
    message: 'cannot {op} the enrollment state file {path}: {reason}',
    hint: 'Check that --state-dir is a writable directory on a host path (so it survives an agent restart).',
    http: 500,
    cni: 106,
  },
  ERR_WEFT_AGENT_HOST_PROC: {
    message: 'cannot scan {hostProc} for the network namespaces of running pods: {reason}',
    hint: 'Pods with no known netns are found through the host procfs: mount the host /proc read-only and point --host-proc (env WEFT_HOST_PROC) at it; reading other processes\' ns/net needs CAP_SYS_PTRACE.',
    http: 500,
  },
  ERR_WEFT_AGENT_NOT_READY: {
    message: 'the node agent is not ready: {reason}',
    hint: 'The agent waits for its first cluster state and certificates; check that the control plane (--control) is reachable or --local-config is valid.',
    http: 503,
    cni: 50,
  },
  ERR_WEFT_AGENT_DENIED: {
    message: 'connection from {source} to {destination} denied by {policy}',
    hint: 'An AuthorizationPolicy refuses this peer; check `weft check` and the policy named here.',
    http: 403,
    flag: 'DENY',
  },
  ERR_WEFT_AGENT_POLICY_CHANGED: {
    message: 'open connection from {source} to {destination} closed: a policy change denies it ({reason})',
    hint: 'An AuthorizationPolicy applied while the connection was open refuses this peer; check `weft check` and the policy named here.',
    http: 403,
    flag: 'DENY',
  },
  ERR_WEFT_AGENT_POD_RELEASED: {
    message: 'pod {pod} left the mesh (deleted or released) while the connection was open',
    hint: 'The pod was deleted or its namespace unlabelled; connections of a pod that leaves the mesh are closed with it.',
    flag: 'POD_GONE',
  },
  ERR_WEFT_AGENT_UNAUTHENTICATED: {
    message: 'plaintext connection from {source} to {destination} refused: {reason}',
    hint: 'The destination is in strict mTLS mode (weft.dev/mtls-mode: strict on its Pod or Namespace, or the chart\'s mtlsMode) and accepts only mesh peers: capture the client (weft.dev/dataplane-mode: ambient), or make the destination permissive.',
    http: 401,
    flag: 'DENY',
  },
  ERR_WEFT_AGENT_NO_ENDPOINT: {
    message: 'service {service} has no ready endpoint for port {port}',
    hint: 'No ready pod backs this Service; check its selector and the pods readiness.',
    http: 503,
    flag: 'NO_ENDPOINT',
  },
  ERR_WEFT_AGENT_CONNECT_FAILED: {
    message: 'cannot connect to {address}: {reason}',
    hint: 'The destination is down or something (a NetworkPolicy, a firewall) drops traffic to it; HBONE needs port 15008 open between pods.',
    http: 503,
    flag: 'CONNECT',
  },
  ERR_WEFT_AGENT_UNKNOWN_DESTINATION: {
    message: 'CONNECT to {address}, which is not a pod served by this agent',
    hint: 'HBONE peers may only ask for the pod that owns the port 15008 they connected to.',
    http: 403,
    flag: 'UNKNOWN_DST',
  },
  ERR_WEFT_AGENT_IDENTITY: {
    message: 'no certificate for {identity}: {reason}',
    hint: 'The agent could not get a workload certificate; check the control plane (IdentityService) or the --local-config CA.',
    http: 503,
    flag: 'IDENTITY',
  },
  ERR_WEFT_AGENT_SELF_CALL: {
    message: 'connection to {destination} refused: {reason}',
    hint: 'The destination is the node agent itself (its ports 15001/15006/15008 in the pod, or loopback), reached without the capture redirect; the agent never proxies to itself. Address the application\'s own port instead.',
    http: 403,
    flag: 'SELF_CALL',
  },
  ERR_WEFT_AGENT_CONNECTION_LIMIT: {
    message: '{scope} {key} holds {limit} connections through the agent, the most allowed; {what} refused',
    hint: 'One pod or one source opened more concurrent connections than the agent admits (bounded so that one client cannot take every file descriptor of the node agent); raise WEFT_AGENT_MAX_CONNECTIONS_PER_POD / WEFT_AGENT_MAX_CONNECTIONS_PER_SOURCE if that load is legitimate.',
    http: 503,
    flag: 'LIMIT',
  },
});
