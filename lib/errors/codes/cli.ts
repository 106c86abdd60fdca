import { defineCodes } from '../spec.js';

// Codes of the `weft` CLI commands that talk to a cluster or a lab (install, check, namespace, waypoint,
// version). Exit status: usage and missing privileges (ERR_WEFT_CLI_USAGE, ERR_WEFT_CLI_FORBIDDEN,
// ERR_WEFT_CLI_PERMISSION_DENIED, ...) exit 2, every other failure exits 1 (cli/exit.ts).
export const cliCodes = defineCodes({
  ERR_WEFT_CLI_USAGE: {
    message: '{reason}',
    hint: 'Run the command with --help for its arguments and options.',
  },
  ERR_WEFT_CLI_NO_CLUSTER: {
    message: 'no cluster to talk to: no kubeconfig ({kubeconfig}) and no running lab under {labRoot}',
    hint: 'Point KUBECONFIG (or --kubeconfig) at your cluster, or start a lab with `sudo weft lab up` and pass --lab <name>.',
  },
  ERR_WEFT_CLI_LAB_AMBIGUOUS: {
    message: 'several labs are running ({labs}) and no --lab says which one to use: run it again with one of {choices}',
    hint: 'Name the lab, e.g. `weft check --lab <name>` or `weft lab status --lab <name>`; `weft lab down --lab <name>` removes one you no longer need.',
  },
  ERR_WEFT_CLI_KUBECONFIG_INVALID: {
    message: 'cannot load kubeconfig {path}: {reason}',
    hint: 'Check the file (`kubectl config view`), or pass another with --kubeconfig / --context.',
  },
  ERR_WEFT_CLI_API_UNREACHABLE: {
    message: 'the Kubernetes API server at {server} is not reachable: {reason}',
    hint: 'Check the current context (`kubectl config current-context`), your network/VPN, and that the cluster is running.',
  },
  ERR_WEFT_CLI_UNAUTHENTICATED: {
    message: 'the Kubernetes API server at {server} refused the credentials of the kubeconfig\'s user: HTTP 401 {reason}',
    hint: 'The token or client certificate is wrong or expired: renew it (`kubectl config view --minify` shows which user the current context uses), or pass another kubeconfig with --kubeconfig / --context.',
  },
  ERR_WEFT_CLI_API_ERROR: {
    message: '{verb} {resource} failed: HTTP {status} {reason}',
    hint: 'The API server refused the request; its message above says why. `kubectl` with -v=6 shows the same request.',
  },
  ERR_WEFT_CLI_FORBIDDEN: {
    message: '{verb} {resource} is forbidden for the current user: {reason}',
    hint: 'Use a context with more rights (cluster-admin for install), or ask your cluster admin; `weft check --pre` lists what is needed.',
  },
  ERR_WEFT_CLI_NOT_FOUND: {
    message: '{resource} not found',
    hint: 'Check the name and the namespace (-n): `kubectl get namespaces` (in a lab, `weft lab status`) and `weft waypoint list` show what exists.',
  },
  ERR_WEFT_CLI_API_NOT_INSTALLED: {
    message: 'the cluster does not serve {apiVersion} {kind}',
    hint: 'Install the CRDs that define it: Gateway API CRDs for gateway.networking.k8s.io (docs/install.md), the weft chart for security.weft.dev.',
  },
  ERR_WEFT_CLI_HELM_NOT_FOUND: {
    message: 'helm was not found (looked in {paths})',
    hint: 'Install Helm 3.14+ on PATH, or run `scripts/install-tools` in the weft repository (puts it in .tools/bin).',
  },
  ERR_WEFT_CLI_HELM_FAILED: {
    message: '`helm {args}` failed with exit code {code}: {stderr}',
    hint: 'Helm\'s own message above says what it refused: a values-schema error names the key to fix (from --set or a -f file); a connection error means the kubeconfig\'s cluster is not reachable (`kubectl cluster-info`).',
  },
  ERR_WEFT_CLI_CHART_NOT_FOUND: {
    message: 'the weft Helm chart was not found at {path}',
    hint: 'Pass --chart <dir>, or run weft from its installation (the chart ships in helm/weft).',
  },
  ERR_WEFT_CLI_WAIT_TIMEOUT: {
    message: 'gave up waiting after {seconds} s for {what} ({state})',
    hint: 'Raise --timeout, or look at why it is not ready: `weft check` and the events of the object (`kubectl describe`).',
  },
  ERR_WEFT_CLI_WAYPOINT_NOT_READY: {
    message: 'waypoint {namespace}/{name} was not ready after {seconds} s: {state}; {enrollment}',
    hint: 'See what it waits for with `weft waypoint status -n {namespace} --name {name}` (replicas, node agents), then re-run the apply: it is idempotent, and enrolls the namespace once the waypoint is ready.',
  },
  ERR_WEFT_CLI_WAYPOINT_NEEDED: {
    message: 'waypoint {namespace}/{name} enforces the L7 rules of {policies}, and no other waypoint would: deleting it makes them fail closed, denying all the traffic they select. Nothing was deleted; to delete it anyway: {command}',
    hint: 'First deploy another waypoint for them (`weft waypoint apply`) or remove their L7 fields (methods, paths); or delete it anyway with --force, and `weft check` then reports each as WEFT-C011.',
  },
  ERR_WEFT_CLI_PERMISSION_DENIED: {
    message: '{what}: {path} is not permitted for uid {uid}',
    hint: 'A lab\'s state belongs to root, who started it: run the command with sudo. Elsewhere, fix the permissions of the path named above.',
  },
  ERR_WEFT_CLI_LAB_UNSUPPORTED: {
    message: '{what} is not available against a lab',
    hint: 'The lab is one machine: use `weft lab up` / `weft lab down` to install or remove it, and `weft lab status` to inspect it.',
  },
  ERR_WEFT_CLI_ADMIN_UNREACHABLE: {
    message: 'cannot reach the admin endpoint of {target} at {address}: {reason}',
    hint: 'The component may not run or may be restarting: `weft lab status` (in a lab) or `kubectl get pods -A -o wide` shows it; its admin port (15000) listens on loopback only.',
  },
  ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED: {
    message: 'the admin endpoint of {target} listens on the loopback of pod {namespace}/{pod}, which weft reaches directly only in a lab',
    hint: 'Forward it first, e.g. `kubectl port-forward -n {namespace} pod/{pod} 15000:15000`, then run the same weft get, tap or top again with `--admin 127.0.0.1:15000` (weft explain asks several components: run it against a lab).',
  },
  ERR_WEFT_CLI_ADMIN_BAD_ANSWER: {
    message: '{target} answered {path} with HTTP {status}: {reason}',
    hint: 'The CLI and the component disagree on the admin API: use a `weft` CLI of the same release as the node agents and waypoints (`weft version`).',
  },
});
