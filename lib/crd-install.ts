/**
 * How to install the CRDs weft reads, in one place: the control plane's error when one is missing and
 * `weft check` print the same command. Gateway API: the version the repo pins (third_party/gateway-api)
 * and the tests install, experimental channel (a superset of standard; older releases had HTTPRoute retries only there).
 */
export const GATEWAY_API_VERSION = 'v1.7.0';
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const WEFT_API_GROUP = 'security.weft.dev';

export const GATEWAY_API_INSTALL = `kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/experimental-install.yaml`;
/** The chart installs its own CRDs; without Helm (or with crds.install=false) they are applied from the chart. */
export const WEFT_CRDS_INSTALL = 'kubectl apply --server-side -f helm/weft/files/crds/';

/** The command that installs the CRD of an API group weft reads. */
export function crdInstallCommand(group: string): string {
  return group === WEFT_API_GROUP ? WEFT_CRDS_INSTALL : GATEWAY_API_INSTALL;
}
