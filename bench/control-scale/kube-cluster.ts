import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, startEtcd, startKubeApiserver, stopComponent, type Placement, type RunningComponent } from '../../lab/kube/components.js';
import { writeControlPlanePki, writeKubeconfig } from '../../lab/kube/pki.js';
import { kubeClient, type KubeClient } from './kube-client.js';
import type { PopulateArgs, Populated } from './kube-populate.js';
import { freePort } from '../lib/free-port.js';

/**
 * bench/control-scale's `--source kube` cluster: a real etcd and kube-apiserver (the binaries
 * scripts/install-tools builds, as the lab runs them) on this host's loopback, on free ports, with the
 * pinned Gateway API CRDs and the chart's CRD applied server-side. The objects are created through the
 * API by a child process (kube-populate.ts), so that the client's own memory is not counted in the
 * control plane's RSS; node-agent tokens are real TokenRequest'd, pod-bound tokens with audience weft.
 * No controller-manager runs: nothing garbage-collects or taints the simulated nodes' pods, and
 * weft-control computes endpoints from EndpointSlices only where they exist (it reads them in cluster
 * mode), so the Services are given theirs by the populate step as the EndpointSlice controller would.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const CRDS = [path.join(repo, 'third_party', 'gateway-api', 'v1.7.0', 'standard'), path.join(repo, 'helm', 'weft', 'files', 'crds')];
// The `kubernetes` Service's endpoint; never dialled here (the API server serves on loopback only and
// refuses a loopback advertise address). TEST-NET-1, RFC 5737.
const ADVERTISE = '192.0.2.10';

export interface KubeCluster {
  readonly kubeconfig: string;
  readonly populated: Populated;
  /** One single-pod change (a label on the bench pod), as a kubelet or a user would make it. */
  change(seq: number): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeCluster(root: string, populate: Omit<PopulateArgs, 'kubeconfig' | 'tokenDir'>, tokenDir: string): Promise<KubeCluster> {
  const place: Placement = { procs: path.join(root, 'procs'), logs: path.join(root, 'logs'), dir: path.join(root, 'kube'), readyTimeoutMs: 120_000 };
  await mkdir(place.dir, { recursive: true });
  const started: RunningComponent[] = [];
  let client: KubeClient | undefined;
  const close = async (): Promise<void> => {
    client?.close();
    for (const c of started.reverse()) await stopComponent(place.procs, c).catch(() => undefined);
  };
  try {
    const pki = await writeControlPlanePki(path.join(root, 'pki'));
    const etcd = await startEtcd({ ...place, clientPort: await freePort(), peerPort: await freePort() });
    started.push(etcd);
    const apiserver = await startKubeApiserver({ ...place, pki, etcdServers: [etcd.clientUrl], securePort: await freePort(), advertiseAddress: ADVERTISE });
    started.push(apiserver);
    const kubeconfig = await writeKubeconfig(path.join(root, 'admin.kubeconfig'), pki, 'admin', apiserver.url, { name: 'weft-bench' });
    for (const crds of CRDS) await kubectl({}, kubeconfig, ['apply', '--server-side', '--field-manager=weft-bench', '-f', crds]);
    await kubectl({}, kubeconfig, ['wait', '--for=condition=Established', '--timeout=120s', 'crd', '--all']);

    const populated = await runPopulate({ ...populate, kubeconfig, tokenDir });
    const patcher = (client = await kubeClient(kubeconfig, 1));
    const { namespace, name } = populated.benchPod;
    const change = async (seq: number): Promise<void> => {
      await patcher.call('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}`, { metadata: { labels: { 'bench-seq': String(seq) } } }, 'application/merge-patch+json');
    };
    return { kubeconfig, populated, change, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs kube-populate.js in a child process and returns what it made. */
function runPopulate(args: PopulateArgs): Promise<Populated> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'kube-populate.js'), [JSON.stringify(args)], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Populated | undefined;
    child.on('message', (m: { type: string; populated?: Populated; error?: string }) => {
      if (m.type === 'populated') result = m.populated;
      if (m.type === 'failed') reject(new Error(`populating the API server failed: ${m.error ?? 'unknown error'}`));
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`kube-populate exited with ${code} before it finished`))));
  });
}
