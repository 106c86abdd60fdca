// Pins: values.schema.json makes Helm refuse unknown keys and wrong types with a message that names the
// key (the user sees Helm's error, so it must be readable), while documented values pass.
import { afterAll, expect, it } from 'vitest';
import { CHART, cleanupHelmHome, describeHelm, helm } from './chart.js';

async function template(...set: string[]): Promise<{ code: number; stderr: string }> {
  return helm(['template', 'weft', CHART, '--namespace', 'weft-system', ...set.flatMap((s) => ['--set', s])]);
}

describeHelm('values schema', () => {
  afterAll(cleanupHelmHome);

  it.each([
    ['an unknown top-level key', 'replicas=3', /additional properties 'replicas' not allowed/],
    ['an unknown nested key', 'control.replica=3', /at '\/control': additional properties 'replica' not allowed/],
    ['a typo under nodeAgent', 'nodeAgent.priviledged=true', /additional properties 'priviledged' not allowed/],
    ['a string for an integer', 'control.replicaCount=three', /at '\/control\/replicaCount': got string, want integer/],
    ['a string for a boolean', 'nodeAgent.privileged=yes', /at '\/nodeAgent\/privileged': got string, want boolean/],
    ['a value outside the enum', 'profile=sidecar', /at '\/profile'/],
    ['a relative CNI path', 'cni.binDir=opt/cni/bin', /at '\/cni\/binDir'/],
    ['an unknown log level', 'logLevel=verbose', /at '\/logLevel'/],
    ['zero replicas', 'control.replicaCount=0', /at '\/control\/replicaCount'/],
    ['a string for the host /proc switch', 'nodeAgent.hostProc.enabled=sometimes', /at '\/nodeAgent\/hostProc\/enabled': got string, want boolean/],
    ['a typo under nodeAgent.hostProc', 'nodeAgent.hostProc.enable=true', /at '\/nodeAgent\/hostProc': additional properties 'enable' not allowed/],
    ['a string for cni.keepOnExit', 'cni.keepOnExit=always', /at '\/cni\/keepOnExit': got string, want boolean/],
    ['a leaf lifetime under 10 min', 'control.leafCertLifetimeSeconds=599', /at '\/control\/leafCertLifetimeSeconds'/],
    ['a leaf lifetime over 7 d', 'control.leafCertLifetimeSeconds=604801', /at '\/control\/leafCertLifetimeSeconds'/],
  ])('refuses %s with a message naming it', async (_what, set, message) => {
    const r = await template(set);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toMatch(message);
  });

  it('accepts the documented values', async () => {
    const r = await template(
      'control.replicaCount=3',
      'control.antiAffinity=soft',
      'ca.externalSecret=my-ca',
      'trustDomain=mesh.example.org',
      'logLevel=debug',
      'cni.binDir=/home/kubernetes/bin',
      'cni.confDir=/var/lib/rancher/k3s/agent/etc/cni/net.d',
      'excludedNamespaces={kube-system,monitoring}',
      'image.registry=registry.example.org/mesh',
      'image.tag=0.1.0-rc1',
      'nodeAgent.resources.limits.memory=1Gi',
      'nodeAgent.hostProc.enabled=false',
      'cni.keepOnExit=false',
      'control.leafCertLifetimeSeconds=3600',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
