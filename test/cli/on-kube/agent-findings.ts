// Pins the node-agent analyzer of `weft check` on a real API server: a node with captured pods (its
// namespace ambient, or the pod itself) whose weft-node-agent pod is not Ready is WEFT-C021, with the
// kubectl logs of that pod; none there at all is WEFT-C020, naming the node and the pods whose traffic
// goes nowhere. A node whose pods are not captured (opted out, host network, another namespace) needs no
// agent: no finding.
import { describe, expect, it } from 'vitest';
import { agentFindings } from '../../../cli/check/agent-findings.js';
import { analyzerContext } from '../../../cli/check/analyze.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';
import { MESH_NS as NS, seedHealthyInstall } from '../cluster-fixture.js';

const pod = (name: string, node: string, namespace = 'demo', labels: Record<string, string> = {}, hostNetwork = false): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { nodeName: node, hostNetwork, containers: [{ name: 'app', image: 'weft/http-echo' }] },
  status: { phase: 'Running' },
});

export function describeAgentFindings(kube: () => KubeServer): void {
  describe('weft check: node agents of captured pods, on a real API server', () => {
    const setup = async (): Promise<{ k: KubeServer; run: () => ReturnType<typeof agentFindings> }> => {
      const k = kube();
      await seedHealthyInstall(k, { nodes: ['node-a', 'node-b', 'node-c'] });
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'weft.dev/dataplane-mode': 'ambient' } } });
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } });
      await Promise.all([
        k.put(pod('web', 'node-a')),
        k.put(pod('opted-out', 'node-b', 'demo', { 'weft.dev/dataplane-mode': 'none' })),
        k.put(pod('host', 'node-b', 'demo', {}, true)),
        k.put(pod('outside', 'node-c', 'plain')),
      ]);
      const client = new KubeClusterClient(k.kc);
      return { k, run: () => agentFindings(analyzerContext(client, { meshNamespace: NS, now: new Date(), caExpirySeconds: 0, certExpirySeconds: undefined })) };
    };

    it('all agents ready: no finding; only node-a has captured pods', async () => {
      const { run } = await setup();
      expect(await run()).toEqual({ examined: '1 node(s) with captured pods', findings: [] });
    });

    it('the agent of a node with captured pods not Ready is WEFT-C021; gone is WEFT-C020; other nodes do not count', async () => {
      const { k, run } = await setup();
      await k.setStatus('Pod', NS, 'weft-node-agent-node-a', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', message: 'containers with unready status: [node-agent]' }] });
      for (const n of ['node-b', 'node-c']) await k.remove('Pod', NS, `weft-node-agent-${n}`);
      let { findings } = await run();
      expect(findings).toEqual([
        {
          code: 'WEFT-C021',
          severity: 'error',
          object: 'node node-a',
          message: 'the node agent of node node-a is not ready: pod weft-node-agent-node-a is not Ready (containers with unready status: [node-agent]); connections of its 1 captured pod(s) there (demo/web) fail',
          fix: 'Its log says what it waits for: `kubectl -n weft-system logs weft-node-agent-node-a -c node-agent`',
        },
      ]);
      await k.remove('Pod', NS, 'weft-node-agent-node-a');
      await k.put(pod('ambient-pod', 'node-c', 'plain', { 'weft.dev/dataplane-mode': 'ambient' }));
      ({ findings } = await run());
      expect(findings.map((f) => [f.code, f.object])).toEqual([
        ['WEFT-C020', 'node node-a'],
        ['WEFT-C020', 'node node-c'],
      ]);
      expect(findings[1]?.message).toBe('no node agent runs on node node-c: no weft-node-agent pod on node node-c; the traffic of its 1 captured pod(s) there (plain/ambient-pod) goes nowhere');
      expect(findings[1]?.fix).toContain('`kubectl -n weft-system describe daemonset weft-node-agent`');
    });
  });
}
