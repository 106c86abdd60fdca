import { defineCodes } from '../spec.js';

// Codes of the read-only admin endpoints (node agent and waypoint, port 15000) that `weft get` and
// `weft explain` ask. The admin answers them as HTTP status + `{error: {code, message, hint, params}}`,
// and the CLI raises the same code, so the user reads the component's own words.
export const adminCodes = defineCodes({
  ERR_WEFT_ADMIN_QUERY_INVALID: {
    message: 'admin request {path}: {reason}',
    hint: 'The CLI and the component disagree on the admin API: use a `weft` CLI of the same release as the node agents and waypoints (`weft version`).',
    http: 400,
  },
  ERR_WEFT_ADMIN_UNKNOWN_POD: {
    message: 'pod {pod} is not in the state of the node agent on {node}',
    hint: 'Check the pod name and namespace; the pod must run on that node. `weft get workloads --node {node}` lists what that agent knows.',
    http: 404,
  },
  ERR_WEFT_ADMIN_UNKNOWN_HOST: {
    message: 'cannot resolve {host}: no Service VIP, Service name (<name>.<namespace>) or pod IP of that name in the node agent\'s state',
    hint: 'Name the destination as a Service (`web.demo`, `web.demo.svc.cluster.local`), a Service VIP or a pod IP, with its port (`web.demo:80`).',
    http: 404,
  },
  ERR_WEFT_ADMIN_UNKNOWN_WORKLOAD: {
    message: 'no workload with IP {ip} in the state of the node agent on {node}',
    hint: 'The destination pod may have moved or restarted; run the command again.',
    http: 404,
  },
  ERR_WEFT_ADMIN_TAP_FORBIDDEN: {
    message: 'the tap of {component} answers only on its loopback; this request came from {peer}',
    hint: 'Tap shows request metadata: reach the admin port from the node (agent) or pod (waypoint) itself. In a lab `weft tap` does that; on Kubernetes forward the port first (kubectl port-forward to the pod) and pass --admin 127.0.0.1:15000.',
    http: 403,
  },
  ERR_WEFT_ADMIN_TAP_BUSY: {
    message: '{component} already streams its tap to {max} listeners',
    hint: 'Stop another `weft tap` or `weft top` against this component (each holds one listener while it runs), then try again.',
    http: 503,
  },
});
