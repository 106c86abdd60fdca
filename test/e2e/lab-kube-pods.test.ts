// Pins issue 11 step 3(b): the lab kubelets run the pods the real scheduler binds to their nodes. A pod
// made with `kubectl run` and a Deployment's pods become running lab pods with a podIP from their node's
// pod CIDR, Ready conditions and running container statuses in the API server; a container that dies is
// restarted and counted; an image the lab cannot run is reported as ErrImagePull; a ConfigMap volume
// not there yet keeps the pod in ContainerCreating without restarts until the ConfigMap exists; and `kubectl delete pod`
// completes because the kubelet stops the processes, runs CNI DEL (the pod's IP goes back to the node's
// IPAM) and removes the namespace before it deletes the pod for good. `weft lab exec/logs` reach these
// pods too, and `down` leaves nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { CONFLIST_NAME } from '../../lab/cni-conflist.js';
import { podNetns } from '../../lab/names.js';
import { inNetns, netnsExists } from '../../lab/netns.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { CLI, startLab, type Lab } from '../support/lab.js';

interface PodJson {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state: { running?: unknown; waiting?: { reason: string; message?: string } } }[];
  };
}

describeRootKube('lab kubelets run the pods the API server binds to them (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  const k = (args: readonly string[]) => kubectlOn(kubeconfig, args);
  const pod = async (name: string): Promise<PodJson> => JSON.parse((await k(['get', 'pod', name, '-o', 'json'])).stdout) as PodJson;
  const ready = (p: PodJson): boolean => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  /** The pod's own answer over the lab network, from node n1's namespace. */
  const curl = (ip: string) => run(inNetns(lab!.info.nodes[0].netns, ['curl', '-s', '--max-time', '5', `http://${ip}:8080/`]), { allowFailure: true, timeoutMs: 10_000 });
  const checkRunsOnItsNode = async (p: PodJson): Promise<void> => {
    const node = lab!.info.nodes.find((n) => n.name === p.spec.nodeName);
    expect(node, `${p.metadata.name} is bound to a lab node`).toBeDefined();
    expect(p.status.hostIP).toBe(node!.ip);
    expect(p.status.podIP?.startsWith(node!.podCIDR.replace(/0\/24$/, ''))).toBe(true);
    expect(p.status.phase).toBe('Running');
    expect(p.status.containerStatuses?.[0].ready).toBe(true);
    expect(p.status.containerStatuses?.[0].state.running).toBeDefined();
    // Ready without a readiness probe means started, not yet listening (as in a cluster): poll the answer.
    await eventually(async () => (await curl(p.status.podIP!)).stdout.includes(p.metadata.name), 20_000, `${p.metadata.name} answers`, 250);
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
  }, 360_000);

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('runs a `kubectl run` pod and a Deployment, scheduled by the real scheduler, with their status', async () => {
    await k(['run', 'web', '--image=weft/http-echo', '--port=8080']);
    await k(['create', 'deployment', 'echo', '--image=ghcr.io/weft/http-echo:1.0', '--replicas=2']);
    await k(['wait', '--for=condition=Ready', 'pod/web', '--timeout=120s']);
    await k(['rollout', 'status', 'deployment/echo', '--timeout=120s']);
    await checkRunsOnItsNode(await pod('web'));
    const replicas = (await k(['get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ');
    expect(replicas).toHaveLength(2);
    for (const name of replicas) await checkRunsOnItsNode(await pod(name));
    // `weft lab exec` and `weft lab logs` reach it as they reach any lab pod.
    // (`--lab` before `--`: after it, it would be curl's.)
    const exec = await run([process.execPath, CLI, 'lab', 'exec', '--lab', lab!.name, 'default/web', '--', 'curl', '-s', 'http://127.0.0.1:8080/'], { timeoutMs: 30_000 });
    expect(exec.stdout).toContain('web');
    expect((await lab!.cli(['logs', 'default/web'])).stdout).toContain('http-echo listening');
  }, 300_000);

  it('restarts a container that dies and counts it', async () => {
    const rec = (await listRecords(lab!.paths.procs)).find((r) => r.id === 'pod-default.web-web');
    expect(rec).toBeDefined();
    process.kill(rec!.pid, 'SIGKILL');
    const again = await eventually(async () => {
      const p = await pod('web');
      return p.status.containerStatuses?.[0].restartCount === 1 && ready(p) ? p : undefined;
    }, 60_000, 'web restarted and Ready', 250);
    await checkRunsOnItsNode(again);
  }, 90_000);

  it('reports an image the lab cannot run as ErrImagePull', async () => {
    await k(['run', 'bad', '--image=nginx:1.29']);
    const waiting = await eventually(async () => (await pod('bad')).status.containerStatuses?.[0].state.waiting, 60_000, 'a waiting container status', 250);
    expect(waiting.reason).toBe('ErrImagePull');
    expect(waiting.message).toContain('image nginx:1.29 of default/bad is not known to the lab');
  }, 90_000);

  it('keeps a pod whose ConfigMap volume does not exist yet in ContainerCreating, without restarts, and starts it once the ConfigMap is made', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'mounts', namespace: 'default' },
      spec: {
        containers: [{ name: 'mounts', image: 'weft/http-echo', volumeMounts: [{ name: 'conf', mountPath: '/etc/conf' }] }],
        volumes: [{ name: 'conf', configMap: { name: 'later' } }],
      },
    };
    await kubectlOn(kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    const waiting = await eventually(async () => {
      const w = (await pod('mounts')).status.containerStatuses?.[0].state.waiting;
      return w?.message?.includes('later') ? w : undefined;
    }, 60_000, 'a waiting status naming the missing ConfigMap', 250);
    expect(waiting.reason).toBe('ContainerCreating');
    await k(['create', 'configmap', 'later', '--from-literal=a=b']);
    const started = await eventually(async () => {
      const p = await pod('mounts');
      return ready(p) ? p : undefined;
    }, 60_000, 'the pod Ready once its ConfigMap exists', 250);
    // The failed mounts ran no process: no restart is counted.
    expect(started.status.containerStatuses?.[0].restartCount).toBe(0);
    await k(['delete', 'pod', 'mounts', '--timeout=90s']);
  }, 180_000);

  it('deletes a pod: processes stopped, CNI DEL run, namespace gone, then the pod object', async () => {
    const p = await pod('web');
    const node = lab!.info.nodes.find((n) => n.name === p.spec.nodeName)!;
    const netns = podNetns(lab!.name, 'default', 'web');
    const lease = join(lab!.paths.node(node.name).ipamDir, CONFLIST_NAME, p.status.podIP!);
    expect(existsSync(lease)).toBe(true);
    expect(await netnsExists(netns)).toBe(true);
    const procs = (await listRecords(lab!.paths.procs)).filter((r) => r.id.startsWith('pod-default.web-'));
    expect(procs).toHaveLength(1);

    // Returns once the pod object is gone: only the kubelet's final delete removes it.
    await k(['delete', 'pod', 'web', '--timeout=90s']);
    expect(existsSync(lease)).toBe(false);
    expect(await netnsExists(netns)).toBe(false);
    for (const r of procs) expect(isAlive(r)).toBe(false);
    expect((await listRecords(lab!.paths.procs)).filter((r) => r.id.startsWith('pod-default.web-'))).toEqual([]);

    // A Deployment's pods go the same way when it is deleted.
    await k(['delete', 'deployment', 'echo']);
    await eventually(async () => (await k(['get', 'pods', '-l', 'app=echo', '-o', 'name'])).stdout.trim() === '', 90_000, 'the Deployment pods gone', 250);
  }, 180_000);

  it('`weft lab down` removes everything', async () => {
    const all = await listRecords(lab!.paths.procs);
    const left = await lab!.down();
    lab = undefined;
    expect(left).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
    for (const r of all) expect(isAlive(r), r.id).toBe(false);
  }, 120_000);
});
