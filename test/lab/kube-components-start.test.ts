// Pins that the Kubernetes components scripts/install-tools builds run as a control plane: etcd and
// kube-apiserver (own CA, serving and client certificates, service-account key, Node,RBAC) start in a
// fresh network namespace, kubectl lists namespaces and server-side-applies a ConfigMap, the controller
// manager publishes kube-root-ca.crt and the scheduler answers /healthz; everything stops and its files
// go, also on failure. A missing binary names the component and install-tools; a component that dies at
// start names itself and its log file.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  kubectl,
  startEtcd,
  startKubeApiserver,
  startKubeControllerManager,
  startKubeScheduler,
  stopComponent,
  type Placement,
  type RunningComponent,
} from '../../lab/kube/components.js';
import { writeControlPlanePki, writeKubeconfig, type ControlPlanePki } from '../../lab/kube/pki.js';
import { netnsPids } from '../../lab/netns.js';
import { listRecords, pidAlive } from '../../lab/processes.js';
import { hasCode, isWeftError } from '../../lib/errors/index.js';
import { describeRootKube } from '../support/kube-tools.js';
import { NetnsSandbox } from '../support/netns.js';
import { eventually } from '../support/eventually.js';

describe('kube components: missing binary', () => {
  it('names the component and install-tools', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weft-tkube-'));
    try {
      const p: Placement = { procs: join(root, 'procs'), logs: join(root, 'logs'), dir: root, binDir: join(root, 'empty-bin') };
      const err = await startEtcd(p).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_LAB_KUBE_BINARY_MISSING')).toBe(true);
      if (!isWeftError(err)) throw err;
      expect(err.message).toContain('etcd');
      expect(err.message).toContain(join(root, 'empty-bin', 'etcd'));
      expect(err.hint).toContain('scripts/install-tools');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describeRootKube('kube components: a control plane in a network namespace (root)', () => {
  const sandbox = new NetnsSandbox();
  const started: RunningComponent[] = [];
  let root: string;
  let p: Placement;
  let pki: ControlPlanePki;
  let admin: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `${sandbox.prefix}kube-`));
    await sandbox.up();
    p = { procs: join(root, 'procs'), logs: join(root, 'logs'), dir: root, netns: sandbox.nodeNs, readyTimeoutMs: 120_000 };
    pki = await writeControlPlanePki(join(root, 'pki'));
  }, 60_000);

  afterAll(async () => {
    // Reverse start order, each by its recorded pid (and start time); then the namespace and the files.
    for (const c of started.reverse()) await stopComponent(p.procs, c);
    // Anything still in the namespace was started by this file (a start that failed half-way).
    const leftover = await Promise.resolve()
      .then(() => netnsPids(sandbox.nodeNs))
      .catch(() => []);
    for (const pid of leftover) process.kill(pid, 'SIGKILL');
    await sandbox.destroy();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('starts etcd and kube-apiserver, and kubectl lists namespaces and applies a ConfigMap', async () => {
    const etcd = await startEtcd(p);
    started.push(etcd);
    // Served on loopback; the advertised address (what the `kubernetes` Service names) is the sandbox
    // namespace's bridge address, as the lab will give its root namespace's underlay address.
    const apiserver = await startKubeApiserver({ ...p, pki, etcdServers: [etcd.clientUrl], advertiseAddress: sandbox.gateway });
    started.push(apiserver);
    admin = await writeKubeconfig(join(root, 'admin.kubeconfig'), pki, 'admin', apiserver.url);

    const ns = await kubectl(p, admin, ['get', 'namespaces', '-o', 'name']);
    expect(ns.stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system']));

    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: weft-probe, namespace: default }\ndata: { hello: world }\n';
    const applied = await kubectl(p, admin, ['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], cm);
    expect(applied.stdout).toContain('configmap/weft-probe serverside-applied');
    const got = JSON.parse((await kubectl(p, admin, ['get', 'configmap', 'weft-probe', '-n', 'default', '-o', 'json', '--show-managed-fields'])).stdout) as {
      data: Record<string, string>;
      metadata: { managedFields: { manager: string; operation: string }[] };
    };
    expect(got.data).toEqual({ hello: 'world' });
    expect(got.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'weft-test', operation: 'Apply' })]));
  }, 240_000);

  it('runs kube-controller-manager and kube-scheduler against it', async () => {
    const url = started.find((c) => c.component === 'kube-apiserver') as (RunningComponent & { url: string }) | undefined;
    if (!url) throw new Error('the API server did not start in the first test');
    const kcmConfig = await writeKubeconfig(join(root, 'kcm.kubeconfig'), pki, 'kube-controller-manager', url.url);
    const schedConfig = await writeKubeconfig(join(root, 'scheduler.kubeconfig'), pki, 'kube-scheduler', url.url);
    started.push(await startKubeControllerManager({ ...p, pki, kubeconfig: kcmConfig }));
    started.push(await startKubeScheduler({ ...p, kubeconfig: schedConfig }));
    // The root-CA publisher, one of the default controllers, writes the cluster CA into every namespace.
    const caData = await eventually(
      async () => (await kubectl(p, admin, ['get', 'configmap', 'kube-root-ca.crt', '-n', 'default', '-o', 'jsonpath={.data.ca\\.crt}']).catch(() => undefined))?.stdout || undefined,
      60_000,
      'kube-root-ca.crt in namespace default',
      500,
    );
    expect(caData.trim()).toBe(readFileSync(pki.caCert, 'utf8').trim());
  }, 240_000);

  it('a component that exits at start fails with its name and log file, and leaves no process', async () => {
    // A regular file where etcd's data directory goes: etcd exits at once.
    const second = join(root, 'second');
    await mkdir(join(second, 'etcd'), { recursive: true });
    await writeFile(join(second, 'etcd', 'data'), 'not a directory\n');
    const err = await startEtcd({ ...p, id: 'etcd-second', dir: second, clientPort: 12379, peerPort: 12380 }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_KUBE_START_FAILED')).toBe(true);
    if (!isWeftError(err)) throw err;
    expect(err.message).toMatch(/^etcd did not start: exited with code \d+ before it was healthy/);
    const log = join(p.logs, 'etcd-second.log');
    expect(err.message).toContain(`log: ${log}`);
    expect(readFileSync(log, 'utf8').length).toBeGreaterThan(0);
    expect((await listRecords(p.procs)).map((r) => r.id).sort()).toEqual(started.map((c) => c.record.id).sort());
    expect((await netnsPids(sandbox.nodeNs)).sort()).toEqual(started.map((c) => c.record.pid).sort());
  }, 60_000);

  it('stops every component it started', async () => {
    const pids = started.map((c) => c.record.pid);
    for (const c of [...started].reverse()) await stopComponent(p.procs, c);
    started.length = 0;
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(await listRecords(p.procs)).toEqual([]);
  }, 60_000);
});
