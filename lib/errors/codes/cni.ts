import { defineCodes } from '../spec.js';

// Codes of the weft-cni plugin and install-cni. `cni` is the number the plugin prints in its CNI error
// JSON: spec codes 1-11 and 50 where the CNI spec has one for the failure, weft codes >= 100 otherwise.
export const cniCodes = defineCodes({
  ERR_WEFT_CNI_VERSION_INCOMPATIBLE: {
    message: 'CNI version {version} is not supported by weft-cni (supported: {supported})',
    hint: 'Set the conflist cniVersion to one of the supported versions; weft-cni chains only after plugins that return a 0.3.0+ result.',
    cni: 1,
  },
  ERR_WEFT_CNI_ENV_INVALID: {
    message: 'invalid CNI environment: {reason}',
    hint: 'weft-cni is run by the container runtime, which sets CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS; check the runtime, or set them when running it by hand.',
    cni: 4,
  },
  ERR_WEFT_CNI_CONFIG_DECODE: {
    message: 'cannot decode the network configuration on stdin: {reason}',
    hint: 'The runtime must send one JSON object on stdin; check the node conflist (install-cni writes it) for syntax errors.',
    cni: 6,
  },
  ERR_WEFT_CNI_STDIN_IO: {
    message: 'cannot read the network configuration from stdin: {reason}',
    hint: 'The container runtime writes the network config to the plugin\'s stdin and closes it at once; a runtime that keeps stdin open, or sends more than a network config, is not speaking CNI. Check the container runtime (containerd, CRI-O) logs; the runtime retries the pod.',
    cni: 5,
  },
  ERR_WEFT_CNI_CONFIG_INVALID: {
    message: 'invalid weft-cni network configuration: {reason}',
    hint: 'Fix the weft-cni entry in the node conflist (install-cni writes it from its --socket/--exclude-namespaces options) or the plugin chained before it.',
    cni: 7,
  },
  ERR_WEFT_CNI_AGENT_UNREACHABLE: {
    message: 'cannot reach the weft node agent on {socket} ({reason}) after {ms} ms',
    hint: 'Is the weft node agent running on this node? Check `kubectl -n weft-system get pods -o wide` for the node-agent pod on this node, and that its --cni-socket matches cni_socket in the conflist. The runtime retries the pod.',
    cni: 100,
  },
  ERR_WEFT_CNI_AGENT_TIMEOUT: {
    message: 'the weft node agent on {socket} did not answer {command} within {ms} ms',
    hint: 'The node agent is running but slow (overloaded or waiting for the control plane); the runtime retries the pod. Check `kubectl -n weft-system logs` of the node-agent pod on this node.',
    cni: 11,
    flag: 'TIMEOUT',
  },
  ERR_WEFT_CNI_ENROLL_FAILED: {
    message: 'the weft node agent refused {command} for pod {pod}: {agentCode}: {agentMessage}',
    hint: 'The agent could not capture this pod, so it is not started unprotected. Read the agent hint in the error details and the node-agent logs (`kubectl -n weft-system logs` on this node).',
    cni: 101,
  },
  ERR_WEFT_CNI_AGENT_PROTOCOL: {
    message: 'the weft node agent on {socket} answered {command} with {reason}',
    hint: 'The plugin and the node agent disagree on the enrollment protocol; make sure install-cni and the node agent come from the same weft release.',
    cni: 102,
  },
  ERR_WEFT_CNI_AGENT_NOT_READY: {
    message: 'the weft node agent on {socket} is not ready: {reason}',
    hint: 'New pods cannot be enrolled until the node agent answers on its CNI socket; check the node-agent pod on this node (`kubectl -n weft-system get pods -o wide`).',
    cni: 50,
  },
  ERR_WEFT_CNI_INTERNAL: {
    message: 'weft-cni internal error: {reason}',
    hint: 'This is a bug in weft-cni; please report it with the plugin log (log_file in the conflist) around this time.',
    cni: 110,
  },
  ERR_WEFT_CNI_INSTALL_UNPARSEABLE: {
    message: 'install-cni left {file} untouched: {reason}',
    hint: 'The primary CNI config is not a CNI config install-cni understands; fix or replace it (the primary CNI plugin usually rewrites it) and install-cni chains weft-cni when it changes.',
  },
  ERR_WEFT_CNI_INSTALL_NO_CONFIG: {
    message: 'no CNI network config (*.conflist, *.conf, *.json) in {dir} after {ms} ms',
    hint: 'install-cni chains weft-cni after the primary CNI plugin; install the primary CNI (Calico, Cilium, Flannel, ...) first, or point --cni-conf-dir at the directory the container runtime reads.',
  },
  ERR_WEFT_CNI_INSTALL_CONTESTED: {
    message: 'another writer keeps removing weft-cni from {file} ({reverts} times within {windowS} s); install-cni re-chains it in {delayMs} ms, and pods created while it is missing start uncaptured',
    hint: 'Two installers own this CNI config. Cilium with cni.exclusive=true (its default) removes every other plugin from it: set cni.exclusive=false in Cilium\'s Helm values (docs/install.md). With another CNI, let its installer keep chained plugins, or stop whatever rewrites the file.',
  },
  ERR_WEFT_CNI_INSTALL_IO: {
    message: 'install-cni cannot {op} {path}: {reason}',
    hint: 'Check that the CNI bin and conf directories are mounted read-write into the install-cni container (hostPath /opt/cni/bin and /etc/cni/net.d).',
  },
});
