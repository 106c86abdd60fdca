// Pins the chart's side of a hitless node agent upgrade (docs/upgrade.md): the DaemonSet surges (the new
// agent starts beside the old one, maxSurge 1, maxUnavailable 0) unless updateStrategy says otherwise,
// declares no host ports (a hostNetwork pod's ports are host ports, which would keep the scheduler from
// placing the surge pod on the node), passes nodeAgent.terminationDrainSeconds to the agent as
// WEFT_AGENT_DRAIN_MS, and keeps terminationGracePeriodSeconds above the drain.
import { afterAll, expect, it } from 'vitest';
import { cleanupHelmHome, describeHelm, find, render } from './chart.js';

interface Spec {
  updateStrategy: unknown;
  template: { spec: { terminationGracePeriodSeconds: number; containers: { name: string; ports?: unknown[]; env?: { name: string; value?: string }[] }[] } };
}

async function daemonSet(args: string[] = []): Promise<Spec> {
  return find(await render(args), 'DaemonSet', 'weft-node-agent').spec as unknown as Spec;
}
const agentEnv = (s: Spec, name: string): string | undefined => s.template.spec.containers.find((c) => c.name === 'node-agent')?.env?.find((e) => e.name === name)?.value;

describeHelm('node agent upgrade: surge, drain and grace period', () => {
  afterAll(cleanupHelmHome);

  it('surges by default: the new agent starts beside the old one, never a node without an agent', async () => {
    const s = await daemonSet();
    expect(s.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    for (const c of s.template.spec.containers) expect(c.ports, c.name).toBeUndefined();
  });

  it('drains for 30 s by default, inside the termination grace period', async () => {
    const s = await daemonSet();
    expect(agentEnv(s, 'WEFT_AGENT_DRAIN_MS')).toBe('30000');
    expect(s.template.spec.terminationGracePeriodSeconds).toBe(45);
  });

  it('takes the drain from nodeAgent.terminationDrainSeconds and moves the grace period with it', async () => {
    const s = await daemonSet(['--set', 'nodeAgent.terminationDrainSeconds=120']);
    expect(agentEnv(s, 'WEFT_AGENT_DRAIN_MS')).toBe('120000');
    expect(s.template.spec.terminationGracePeriodSeconds).toBe(135);
  });

  it('keeps updateStrategy configurable', async () => {
    const s = await daemonSet(['--set', 'nodeAgent.updateStrategy.rollingUpdate.maxSurge=0', '--set', 'nodeAgent.updateStrategy.rollingUpdate.maxUnavailable=1']);
    expect(s.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('refuses a negative drain', async () => {
    await expect(render(['--set', 'nodeAgent.terminationDrainSeconds=-1'])).rejects.toThrow(/terminationDrainSeconds/);
  });
});
