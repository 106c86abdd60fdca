// Failure: a request above its limit (e.g. --set control.resources.requests.memory=1Gi against the 512Mi
// default limit) rendered fine and failed only at the API server, per pod, as an opaque admission error.
// Pins: the chart refuses it at render time with a message naming both values and what to do, comparing
// quantities in any unit Kubernetes accepts; requests at or below their limits render.
import { afterAll, expect, it } from 'vitest';
import { CHART, cleanupHelmHome, describeHelm, helm } from './chart.js';

async function template(...set: string[]): Promise<{ code: number; stderr: string }> {
  return helm(['template', 'weft', CHART, '--namespace', 'weft-system', ...set.flatMap((s) => ['--set', s])]);
}

describeHelm('requests above limits', () => {
  afterAll(cleanupHelmHome);

  it.each([
    ['control memory above the default limit', ['control.resources.requests.memory=1Gi'], 'control.resources.requests.memory (1Gi) is more than control.resources.limits.memory (512Mi)'],
    ['node agent cpu, cores against millicores', ['nodeAgent.resources.requests.cpu=2', 'nodeAgent.resources.limits.cpu=500m'], 'nodeAgent.resources.requests.cpu (2) is more than nodeAgent.resources.limits.cpu (500m)'],
    ['install-cni memory, decimal against binary units', ['cni.resources.requests.memory=200M', 'cni.resources.limits.memory=128Mi'], 'cni.resources.requests.memory (200M) is more than cni.resources.limits.memory (128Mi)'],
    ['waypoint memory', ['waypoint.resources.requests.memory=600Mi'], 'waypoint.resources.requests.memory (600Mi) is more than waypoint.resources.limits.memory (512Mi)'],
  ])('refuses %s, naming both values', async (_what, set, message) => {
    const r = await template(...set);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('raise the limit or lower the request');
  });

  it.each([
    ['equal values in different units', ['control.resources.requests.cpu=0.5', 'control.resources.limits.cpu=500m']],
    ['a request just below the limit', ['nodeAgent.resources.requests.memory=1000M', 'nodeAgent.resources.limits.memory=1Gi']],
    ['a request without a limit', ['control.resources.requests.cpu=4']],
    ['exponent notation', ['cni.resources.requests.memory=1e8', 'cni.resources.limits.memory=128Mi']],
  ])('accepts %s', async (_what, set) => {
    const r = await template(...set);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
