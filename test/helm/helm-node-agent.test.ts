// Pins: the node agent DaemonSet keeps its security and placement contract — hostNetwork, exactly
// NET_ADMIN/SYS_ADMIN/NET_RAW (+ SYS_PTRACE for host-proc netns discovery) and no privileged unless asked,
// the host mounts (netns with HostToContainer propagation, read-only host /proc at /host/proc with
// WEFT_HOST_PROC pointing there — all three gone with nodeAgent.hostProc.enabled=false —, /var/run/weft,
// the CNI dirs from values), install-cni as a second container that keeps weft-cni chained when it stops
// (a rolling update must not remove it) unless cni.keepOnExit=false, tolerations for every node, a
// projected token for audience weft, system-node-critical, readiness on 15021, and the
// process flags (node-agent/config.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupHelmHome, describeHelm, find, render, type Rendered } from './chart.js';

interface Container {
  name: string;
  command: string[];
  args: string[];
  env?: { name: string; value?: string }[];
  securityContext: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] }; runAsUser?: number };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
  readinessProbe?: { httpGet?: { path: string; port: number }; exec?: { command: string[] } };
}
interface PodSpec {
  hostNetwork?: boolean;
  priorityClassName?: string;
  tolerations?: { operator: string }[];
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string }; projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] }; configMap?: { name: string } }[];
}

function podSpec(ds: Rendered): PodSpec {
  return (ds.spec as { template: { spec: PodSpec } }).template.spec;
}
function container(spec: PodSpec, name: string): Container {
  const c = spec.containers.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
}

describeHelm('node agent DaemonSet', () => {
  let ds: Rendered;
  let spec: PodSpec;
  beforeAll(async () => {
    ds = find(await render(), 'DaemonSet', 'weft-node-agent');
    spec = podSpec(ds);
  });
  afterAll(cleanupHelmHome);

  it('runs on the host network on every node, before anything else is evicted', () => {
    expect(spec.hostNetwork).toBe(true);
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('gets only NET_ADMIN, SYS_ADMIN, NET_RAW and (for host /proc) SYS_PTRACE, never privileged by default', () => {
    const agent = container(spec, 'node-agent');
    expect(agent.securityContext.privileged).toBe(false);
    expect(agent.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW', 'SYS_PTRACE'] });
    const cni = container(spec, 'install-cni');
    expect(cni.securityContext.privileged).toBe(false);
    expect(cni.securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });

  it('is privileged only when nodeAgent.privileged is set', async () => {
    const agent = container(podSpec(find(await render(['--set', 'nodeAgent.privileged=true']), 'DaemonSet', 'weft-node-agent')), 'node-agent');
    expect(agent.securityContext.privileged).toBe(true);
    expect(agent.securityContext.capabilities).toBeUndefined();
  });

  it('mounts netns (HostToContainer), host /proc read-only, /var/run/weft and a projected weft token', () => {
    const mounts = container(spec, 'node-agent').volumeMounts;
    expect(mounts).toContainEqual({ name: 'netns', mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' });
    expect(mounts).toContainEqual({ name: 'host-proc', mountPath: '/host/proc', readOnly: true });
    expect(mounts).toContainEqual({ name: 'run-weft', mountPath: '/var/run/weft' });
    const vol = (n: string): PodSpec['volumes'][number] | undefined => spec.volumes.find((v) => v.name === n);
    expect(vol('netns')?.hostPath?.path).toBe('/var/run/netns');
    expect(vol('host-proc')?.hostPath?.path).toBe('/proc');
    expect(vol('run-weft')?.hostPath?.path).toBe('/var/run/weft');
    expect(vol('weft-token')?.projected?.sources).toEqual([{ serviceAccountToken: { audience: 'weft', expirationSeconds: 43200, path: 'token' } }]);
    expect(vol('weft-ca-root')?.configMap?.name).toBe('weft-ca-root');
  });

  it('points the agent at the host /proc (WEFT_HOST_PROC), and drops mount, env and SYS_PTRACE when hostProc is off', async () => {
    expect(container(spec, 'node-agent').env).toContainEqual({ name: 'WEFT_HOST_PROC', value: '/host/proc' });
    const off = podSpec(find(await render(['--set', 'nodeAgent.hostProc.enabled=false']), 'DaemonSet', 'weft-node-agent'));
    const agent = container(off, 'node-agent');
    expect(agent.env?.map((e) => e.name)).not.toContain('WEFT_HOST_PROC');
    expect(agent.volumeMounts.map((m) => m.name)).not.toContain('host-proc');
    expect(off.volumes.map((v) => v.name)).not.toContain('host-proc');
    expect(agent.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] });
    // The rest of the pod is untouched.
    expect(agent.volumeMounts).toContainEqual({ name: 'netns', mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' });
  });

  it('passes the process flags: kube control address, token file, CA root, ports', () => {
    const agent = container(spec, 'node-agent');
    expect(agent.command).toEqual(['node', 'dist/node-agent/main.js']);
    expect(agent.args).toEqual(
      expect.arrayContaining([
        '--node=$(NODE_NAME)',
        '--cni-socket=/var/run/weft/cni.sock',
        '--control=weft-control.weft-system.svc:15012',
        '--token-file=/var/run/secrets/weft/token/token',
        '--ca-root=/var/run/secrets/weft/ca/root-cert.pem',
        '--health-address=0.0.0.0:15021',
        '--metrics-address=0.0.0.0:15020',
        '--admin-address=127.0.0.1:15000',
      ]),
    );
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/healthz/ready', port: 15021 });
  });

  it('runs install-cni beside it with the CNI dirs from values', async () => {
    const cni = container(spec, 'install-cni');
    expect(cni.command).toEqual(['node', 'dist/cni/install.js']);
    expect(cni.args).toContain('--exclude-namespaces=kube-system,weft-system');
    expect(spec.volumes.find((v) => v.name === 'cni-bin')?.hostPath?.path).toBe('/opt/cni/bin');
    expect(spec.volumes.find((v) => v.name === 'cni-conf')?.hostPath?.path).toBe('/etc/cni/net.d');
    expect(cni.readinessProbe?.exec?.command.join(' ')).toContain('weft-cni');
    // Without it, every rolling update would unchain weft-cni on each node until the new pod re-chains it.
    expect(cni.args).toContain('--keep-on-exit');
    const leaving = container(podSpec(find(await render(['--set', 'cni.keepOnExit=false']), 'DaemonSet', 'weft-node-agent')), 'install-cni');
    expect(leaving.args).not.toContain('--keep-on-exit');
    // GKE keeps CNI binaries elsewhere: the value moves the host path, not the path inside the container.
    const gke = podSpec(find(await render(['--set', 'cni.binDir=/home/kubernetes/bin']), 'DaemonSet', 'weft-node-agent'));
    expect(gke.volumes.find((v) => v.name === 'cni-bin')?.hostPath?.path).toBe('/home/kubernetes/bin');
    expect(container(gke, 'install-cni').volumeMounts).toContainEqual({ name: 'cni-bin', mountPath: '/host/opt/cni/bin' });
  });
});
