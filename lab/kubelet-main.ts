#!/usr/bin/env node
// The lab's per-node kubelet process; `weft lab up` starts it inside the node's network namespace with
// `nsenter --net=` (keeping the host's mount namespace, so the pod namespaces it creates are visible).
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/telemetry/log.js';
import { Kubelet } from './kubelet.js';
import { labKubePaths } from './kube/lab-control-plane.js';
import { NodeApi } from './kube/node-api.js';
import { NodeHeartbeat } from './kube/node-heartbeat.js';
import { NodePods } from './kube/node-pods.js';
import { ProxyWatch } from './kube/proxy-watch.js';
import { keepAgentTokenFresh } from './kube/agent-token.js';
import { meshPaths } from './mesh.js';
import { labPaths } from './names.js';
import { readLabInfo } from './state.js';

const { values } = parseArgs({ options: { lab: { type: 'string' }, node: { type: 'string' }, 'state-root': { type: 'string' }, help: { type: 'boolean' } } });
if (values.help || !values.lab || !values.node) {
  console.log('usage: kubelet-main --lab <name> --node <nN> [--state-root /var/run/weft-lab]');
  process.exit(values.help ? 0 : 2);
}
const paths = labPaths(values.lab, values['state-root']);
const info = await readLabInfo(paths, values.lab);
const node = info.nodes.find((n) => n.name === values.node);
if (!node) {
  console.error(`node ${values.node} is not part of lab ${values.lab}`);
  process.exit(2);
}
const log = createLogger({ name: 'weft-lab-kubelet' }).child({ component: 'kubelet', node: node.name });
const kubelet = new Kubelet({ info, node, paths, log });
await kubelet.start();
log.info('kubelet running');
let closed = false;
let heartbeat: NodeHeartbeat | undefined;
let pods: NodePods | undefined;
let proxy: ProxyWatch | undefined;
let agentToken: { stop(): void } | undefined;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    closed = true;
    kubelet.close();
    heartbeat?.close();
    void pods?.stop();
    void proxy?.stop();
    agentToken?.stop();
    process.exit(0);
  });
}
// The node in the API server: its credentials appear while `up` starts the control plane beside this.
const kube = labKubePaths(paths);
// The node's agent is a lab process, not a pod: its node-bound token is kept fresh here, with the admin's
// credentials (the Node authorizer gives a kubelet tokens for its own pods only).
if (info.agent) agentToken = keepAgentTokenFresh({ kubeconfig: kube.inLabAdminKubeconfig, node: node.name, file: meshPaths(paths).agentToken(node.name), log: log.child({ component: 'agent-token' }) });
const api = await NodeApi.connect(node.name, kube.node(node.name).kubeconfig, log, () => closed);
// kube-proxy's part, with its own credentials (system:kube-proxy): every Service and EndpointSlice.
const proxyLog = log.child({ component: 'kube-proxy' });
const proxyApi = api && (await NodeApi.connect(node.name, kube.proxy.kubeconfig, proxyLog, () => closed, 'kube-proxy'));
if (api && proxyApi) {
  heartbeat = new NodeHeartbeat({ api, node, lab: info.name });
  heartbeat.start();
  pods = new NodePods(api, () => kubelet.kick(), log);
  pods.start();
  proxy = new ProxyWatch(proxyApi, () => kubelet.kick(), proxyLog);
  proxy.start();
  kubelet.watchApi(pods, proxy);
}
