import { defineCodes } from '../spec.js';

// Control plane: cluster-state sources (Kubernetes API, state directory), CA persistence, leader election.
export const controlSourcesCodes = defineCodes({
  ERR_WEFT_SOURCE_INVALID_OBJECT: {
    message: 'invalid {kind} {name} in {origin}: {reason}',
    hint: 'Fix the named field of the manifest; the object is skipped until it validates, everything else keeps working.',
    http: 422,
    grpc: 3,
  },
  ERR_WEFT_SOURCE_KUBE_REQUEST: {
    message: 'Kubernetes API {method} {path} failed with {status}: {reason}',
    hint: 'Check that the API server is reachable from the control plane and that its ServiceAccount has the RBAC the Helm chart grants.',
    grpc: 14,
  },
  ERR_WEFT_SOURCE_CRD_MISSING: {
    message: 'the Kubernetes API does not serve {kinds}: CustomResourceDefinition {crds} is not installed; install it with: {command}',
    hint: 'Run the command in the message against the cluster. weft keeps running without these kinds and picks them up once they are served.',
    grpc: 9,
  },
  ERR_WEFT_SOURCE_KUBECONFIG_INVALID: {
    message: 'cannot load the kubeconfig {path}: {reason}',
    hint: 'Point KUBECONFIG at a readable kubeconfig with a current context (`kubectl config view` shows what it holds); in a pod, weft-control uses its ServiceAccount instead.',
  },
  ERR_WEFT_SOURCE_KUBE_UNREACHABLE: {
    message: 'the Kubernetes API server {server} (kubeconfig {path}) did not answer: {reason}',
    hint: 'Check the server address and CA of the kubeconfig\'s current cluster, and that the API server runs and is reachable from here (`kubectl cluster-info` with the same kubeconfig).',
    grpc: 14,
  },
  ERR_WEFT_SOURCE_KUBE_UNAUTHORIZED: {
    message: 'the Kubernetes API server {server} refused the credentials of user {user} (kubeconfig {path}): HTTP 401 {reason}',
    hint: 'The token or client certificate is wrong or expired: renew it in the kubeconfig (`kubectl config view --minify` shows which user the current context uses), or use another kubeconfig.',
    grpc: 16,
  },
  ERR_WEFT_SOURCE_WRITE: {
    message: 'could not write {what}: {reason}',
    hint: 'Check permissions on the state directory (directory mode) or RBAC for the status subresource (Kubernetes).',
    grpc: 13,
  },
  ERR_WEFT_CA_STORE_INVALID: {
    message: 'CA material in {origin} is unusable: {reason}',
    hint: 'The Secret or files must hold a PEM certificate chain (CA cert first) and its PKCS#8 private key; delete them to let weft generate a new root, or provide a valid root/intermediate.',
    grpc: 9,
  },
  ERR_WEFT_LEADER_LOST: {
    message: 'lost the leader lease {lease}: {reason}',
    hint: 'Another replica took over or the API server was unreachable long enough for the lease to expire; controllers pause until this replica leads again.',
  },
});
