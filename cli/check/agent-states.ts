import { request } from 'node:http';
import { dirname } from 'node:path';
import { HEALTH_PORT } from '../../lib/names.js';
import { labPaths, type LabPaths } from '../../lab/names.js';
import { isRunning } from '../../lab/processes.js';
import { tryReadLabInfo, type LabInfo } from '../../lab/state.js';
import { NODE_AGENT_SELECTOR, socketInNetns } from '../admin/admin-target.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { conditionOf } from '../kube/conditions.js';
import { Pod } from '../../lib/kube/resources.js';

/**
 * How each node's agent is doing, as the cluster knows it: in Kubernetes the weft-node-agent pod of the
 * node (its phase and Ready condition, as the kubelet probed /healthz/ready); in a lab the recorded agent
 * process of the node and its /healthz/ready, asked inside the node's network namespace.
 */
export interface AgentState {
  readonly node: string;
  readonly running: boolean;
  readonly ready: boolean;
  /** What is wrong, when something is. */
  readonly detail: string;
  /** What to run to see why (and, in a lab, to start it again). */
  readonly fix: string;
}

export async function agentStates(client: ClusterClient, meshNamespace: string, nodes: readonly string[]): Promise<AgentState[]> {
  if (client.target.kind === 'lab') return labAgentStates(client.target.name, client.target.dir, nodes);
  const pods = await client.list(Pod, { namespace: meshNamespace, labelSelector: NODE_AGENT_SELECTOR });
  return nodes.map((node) => {
    const pod = pods.find((p) => p.spec?.nodeName === node && p.metadata.deletionTimestamp === undefined);
    const list = `\`kubectl -n ${meshNamespace} get pods -l ${NODE_AGENT_SELECTOR} -o wide\`, \`kubectl -n ${meshNamespace} describe daemonset weft-node-agent\``;
    if (pod === undefined) return { node, running: false, ready: false, detail: `no weft-node-agent pod on node ${node}`, fix: `See why the DaemonSet has none there (taints, resources): ${list}` };
    const logs = `\`kubectl -n ${meshNamespace} logs ${pod.metadata.name} -c node-agent\``;
    const phase = typeof pod.status?.phase === 'string' ? pod.status.phase : undefined;
    const waiting = ((pod.status?.containerStatuses ?? []) as { name: string; state?: { waiting?: { reason?: string } } }[]).find((c) => c.name === 'node-agent')?.state?.waiting?.reason;
    if (phase !== undefined && phase !== 'Running') return { node, running: false, ready: false, detail: `pod ${pod.metadata.name} is ${phase}${waiting ? ` (${waiting})` : ''}`, fix: `${logs}; \`kubectl -n ${meshNamespace} describe pod ${pod.metadata.name}\`` };
    const ready = conditionOf(pod, 'Ready');
    if (ready?.status !== 'True') return { node, running: true, ready: false, detail: `pod ${pod.metadata.name} is not Ready${waiting ? ` (${waiting})` : ready?.message ? ` (${ready.message})` : ''}`, fix: `Its log says what it waits for: ${logs}` };
    return { node, running: true, ready: true, detail: '', fix: '' };
  });
}

/** The lab's paths and what `up` recorded (undefined before it did), from its state directory. */
export async function labOf(lab: string, stateDir: string): Promise<{ paths: LabPaths; info: LabInfo | undefined }> {
  const paths = labPaths(lab, dirname(stateDir));
  return { paths, info: await tryReadLabInfo(paths) };
}

async function labAgentStates(lab: string, stateDir: string, nodes: readonly string[]): Promise<AgentState[]> {
  const { paths, info } = await labOf(lab, stateDir);
  const logs = (node: string): string => `\`weft lab logs agent-${node} --lab ${lab}\``;
  const out: AgentState[] = [];
  for (const node of nodes) {
    const n = info?.nodes.find((x) => x.name === node);
    if (info?.agent !== true || n === undefined || !(await isRunning(paths.procs, `agent-${node}`))) {
      const why = info?.agent === false ? `lab ${lab} runs no node agents (weft was not built when it came up)` : `the node agent process of node ${node} is not running`;
      out.push({ node, running: false, ready: false, detail: why, fix: `${logs(node)} shows why it stopped; \`sudo weft lab up --lab ${lab}\` starts it again` });
      continue;
    }
    const reason = await labReadiness(`/var/run/netns/${n.netns}`, n.ip, `node agent ${node}`);
    out.push(reason === undefined ? { node, running: true, ready: true, detail: '', fix: '' } : { node, running: true, ready: false, detail: reason, fix: `Its log says what it waits for: ${logs(node)}` });
  }
  return out;
}

/** undefined when GET /healthz/ready answers 200, else why not (its 503 body, or what failed). */
function labReadiness(netnsPath: string, host: string, label: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let socket;
    try {
      socket = socketInNetns(netnsPath, label);
    } catch (err) {
      resolve(`its health endpoint cannot be reached: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const s = socket;
    const req = request({ host, port: HEALTH_PORT, path: '/healthz/ready', createConnection: () => s.connect(HEALTH_PORT, host), timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `/healthz/ready answered ${res.statusCode ?? 0}: ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve(`its health endpoint ${host}:${HEALTH_PORT} did not answer: ${err.message}`));
    req.end();
  });
}
