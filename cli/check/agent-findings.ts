import { isCapturedPod } from '../../lib/capture-mode.js';
import { Namespace, Pod } from '../../lib/kube/resources.js';
import { agentStates } from './agent-states.js';
import type { Analysis, AnalyzerContext } from './context.js';
import { finding, type Finding } from './findings.js';

/**
 * Node agents on the nodes that have captured pods (the control plane's capture rule, lib/capture-mode.ts):
 * none running there is WEFT-C020, one running but not ready WEFT-C021. A node without captured pods
 * needs no agent to carry traffic; the "node agents" check covers installs.
 */
export async function agentFindings(ctx: AnalyzerContext): Promise<Analysis> {
  const namespaces = new Map((await ctx.client.list(Namespace)).map((n) => [n.metadata.name, n.metadata.labels]));
  const capturedByNode = new Map<string, string[]>();
  for (const p of await ctx.client.list(Pod)) {
    const node = p.spec?.nodeName;
    const phase = p.status?.phase;
    if (typeof node !== 'string' || node === '' || phase === 'Succeeded' || phase === 'Failed') continue;
    const ns = p.metadata.namespace ?? 'default';
    if (!isCapturedPod({ labels: p.metadata.labels, hostNetwork: p.spec?.hostNetwork === true }, namespaces.get(ns))) continue;
    const list = capturedByNode.get(node) ?? [];
    list.push(`${ns}/${p.metadata.name}`);
    capturedByNode.set(node, list);
  }
  const nodes = [...capturedByNode.keys()].sort();
  const findings: Finding[] = [];
  for (const a of await agentStates(ctx.client, ctx.meshNamespace, nodes)) {
    const pods = capturedByNode.get(a.node) ?? [];
    const affected = `${pods.length} captured pod(s) there (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? ', …' : ''})`;
    if (!a.running) findings.push(finding('WEFT-C020', `node ${a.node}`, `no node agent runs on node ${a.node}: ${a.detail}; the traffic of its ${affected} goes nowhere`, a.fix));
    else if (!a.ready) findings.push(finding('WEFT-C021', `node ${a.node}`, `the node agent of node ${a.node} is not ready: ${a.detail}; connections of its ${affected} fail`, a.fix));
  }
  return { examined: `${nodes.length} node(s) with captured pods`, findings };
}
