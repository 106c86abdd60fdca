import { defineCodes } from '../spec.js';

// Codes of `weft lab`: the one-machine cluster made of network namespaces (lab/, cli/commands/lab.ts).
export const labCodes = defineCodes({
  ERR_WEFT_LAB_NAME_INVALID: {
    message: 'lab name {name} is not valid: use 1-16 lowercase letters or digits',
    hint: 'Names become namespace prefixes (weft-<name>-); dashes are refused so that one lab can never match another lab\'s prefix.',
  },
  ERR_WEFT_LAB_NOT_FOUND: {
    message: 'no lab named {name} is running (no state in {dir})',
    hint: 'Start it with `sudo weft lab up --lab {name}`; running labs are the directories with a lab.json inside under the lab root (`ls /var/run/weft-lab`).',
  },
  ERR_WEFT_LAB_COMMAND_FAILED: {
    message: '`{command}` failed with exit code {code}: {stderr}',
    hint: 'The lab drives iproute2, nftables and the CNI plugins; run `./scripts/setup` if one is missing, and check the component\'s log with `weft lab logs <component>` (kubelet-<node>, control, agent-<node>, kube-apiserver, <namespace>/<pod>).',
  },
  ERR_WEFT_LAB_TOOL_MISSING: {
    message: '{tool} is not installed ({path} not found)',
    hint: 'Run `./scripts/setup` (it installs iproute2, nftables, containernetworking-plugins and prometheus).',
  },
  ERR_WEFT_LAB_MANIFEST_INVALID: {
    message: 'manifest {source} is not valid: {reason}',
    hint: 'Each document needs apiVersion, kind and metadata.name; the lab\'s API server validates the rest when it is applied.',
  },
  ERR_WEFT_LAB_FIELD_INVALID: {
    message: '{source}: {field} {value} is not valid: {rule}',
    hint: 'Kinds, API versions, namespaces and names follow Kubernetes rules (names are lowercase DNS names, never `/` or `..`); fix the named field. Nothing of the input was written.',
  },
  ERR_WEFT_LAB_UNKNOWN_IMAGE: {
    message: 'image {image} of {pod} is not known to the lab',
    hint: 'The lab runs programs from this repository, not container images: use weft/node-agent, weft/waypoint, weft/control, weft/http-echo, weft/grpc-echo, weft/tcp-echo, weft/loadgen, the chart\'s image weft (runs the container\'s command, e.g. node dist/cni/install.js, from the repository root), or debian (runs the command on the host\'s Debian inside the pod namespace).',
  },
  ERR_WEFT_LAB_HOSTPATH_UNSUPPORTED: {
    message: 'hostPath {path} of {pod} cannot be mounted in the lab: {reason}',
    hint: 'A lab node is a network namespace on this machine: only the node directories the weft chart mounts are mapped (to the node\'s own directories under the lab\'s state). Use an emptyDir or ConfigMap volume instead, or run the pod on a real cluster.',
  },
  ERR_WEFT_LAB_POD_NOT_FOUND: {
    message: 'pod {pod} is not running in lab {lab}',
    hint: 'List pods with `weft lab status`; name it as <namespace>/<pod>.',
  },
  ERR_WEFT_LAB_CNI_FAILED: {
    message: 'CNI {command} of plugin {plugin} for pod {pod} failed: {reason}',
    hint: 'The node\'s conflist chain refused the pod; `weft lab logs kubelet-<node>` shows the plugin\'s error JSON. If the plugin is weft-cni, check that the node agent runs (`weft lab logs agent-<node>`).',
    cni: 100,
  },
  ERR_WEFT_LAB_TIMEOUT: {
    message: '{what} did not happen within {ms} ms',
    hint: 'Look at `weft lab status` and `weft lab logs <component|ns/pod>` for the pod or component that is not ready.',
  },
  ERR_WEFT_LAB_KUBE_BINARY_MISSING: {
    message: '{component} is not installed ({path} not found)',
    hint: 'Run `scripts/install-tools` (`./scripts/setup` runs it): it builds etcd and the Kubernetes components from the modules pinned in tools/ into .tools/bin. The first build takes 20-40 minutes; later runs reuse the cache.',
  },
  // Printed by scripts/install-tools (a shell script: the text is kept equal to this table by
  // test/lab/install-tools-errors.test.ts).
  ERR_WEFT_TOOLS_GO_MISSING: {
    message: 'Go is not installed (no go on PATH): scripts/install-tools builds {component} from source with it',
    hint: 'Install Go 1.26 or newer (go.dev/doc/install) and run `./scripts/setup` again. To run the tests that need no Kubernetes tools meanwhile, set WEFT_TEST_SKIP_TOOLS=1.',
  },
  ERR_WEFT_TOOLS_BUILD_FAILED: {
    message: 'building {component} ({module} {version}) failed (log: {log})',
    hint: 'The end of the log is printed above it. Usual causes: the Go module proxy cannot be reached, the disk under WEFT_TOOLS_CACHE (default /var/cache/weft-tools) is full, or the module needs a newer Go (README, Tools).',
  },
  ERR_WEFT_LAB_KUBE_START_FAILED: {
    message: '{component} did not start: {reason} (log: {log}; it ends: {tail})',
    hint: 'Read the end of the log file named in the message. Usual causes: the port is taken, a data directory left by an earlier run, a missing certificate or key file. In a lab, `sudo weft lab down` (with the same --lab) removes everything the failed start left.',
  },
  ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING: {
    message: 'lab {lab} has no running Prometheus ({what})',
    hint: 'A lab runs Prometheus with its mesh (not with --no-mesh). Run `sudo weft lab up --lab {lab}` again: it starts what is missing, and says why if Prometheus cannot start.',
  },
  ERR_WEFT_LAB_KUBE_NOT_RUNNING: {
    message: 'lab {lab} has no Kubernetes API server ({path} not found)',
    hint: 'The lab was made by an older weft or its start failed: run `sudo weft lab up --lab {lab}` again (it starts what is missing), or `sudo weft lab down --lab {lab}` and up again.',
  },
  ERR_WEFT_LAB_KUBELET_REFUSED: {
    message: 'the API server refused the {agent} of node {node}: {method} {path} answered {status} ({reason}); its credentials: {kubeconfig}',
    hint: 'The kubelet authenticates as system:node:{node} (group system:nodes), kube-proxy as system:kube-proxy, each with a certificate from the lab\'s cluster CA. 401: the certificate is not from the CA the API server trusts (a lab made again over old files): `sudo weft lab down` and up again. 403: Node authorization, NodeRestriction or RBAC (kube-proxy: the binding system:node-proxier) refused the request; `weft lab logs kube-apiserver` names the rule.',
  },
});
