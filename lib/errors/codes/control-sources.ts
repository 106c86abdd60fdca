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
