import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import { chainAdd, chainDel, resultIPv4, type CniRuntimeArgs, type PluginInvoker } from './cni-chain.js';
import { type Conflist, LOOPBACK_CONF } from './cni-conflist.js';
import { readObjects, readStatus, removeFile, writeAtomic, writeObject } from './cluster-store.js';
import { run } from './command.js';
import { programFor } from './images.js';
import type { KubeObject, PodSpec } from './manifests.js';
import { type LabPaths, podNetns, ROOT_UNDERLAY_IP } from './names.js';
import { deleteNetns, ensureNetns, inNetns, netnsPath } from './netns.js';
import { ProbeLoop } from './probes.js';
import { CONTROL_NAMES } from './mesh.js';
import { inPod, preparePodEtc, removePodEtc, writePodHosts } from './pod-etc.js';
import { rewritePath } from './volumes.js';
import { forgetRecord, listRecords, startProcess, stopProcess } from './processes.js';
import { type Endpoint, renderHosts, renderProxyRules, serviceView, type ServiceView } from './services.js';
import type { LabInfo } from './state.js';
import type { NodeInfo } from './topology.js';
import { containerArgv, containerEnv, containerVolumes } from './container-launch.js';
import { podStatus, type ContainerState, type PodState, type RuntimeRecord } from './pod-state.js';

/**
 * The lab's kubelet and container runtime for one node. It runs inside the node's network namespace
 * (so that probes leave from the node, as a kubelet's do) and, for each Pod bound to its node: creates
 * the pod namespace, runs the node's conflist chain (CNI 1.0: ADD in order, DEL in reverse), starts each
 * container's program in the pod namespace, restarts it per restartPolicy, probes it, and writes the
 * Pod's status into the cluster-state directory. It is also the node's kube-proxy (nftables DNAT for
 * Service VIPs) and writes each pod's hosts file (pod-etc.ts: replaced atomically, as the pod sees it).
 */
const SYNC_INTERVAL_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const SANDBOX_RETRY_MS = 2000;

export interface KubeletOptions {
  readonly info: LabInfo;
  readonly node: NodeInfo;
  readonly paths: LabPaths;
  readonly log: Logger;
  /** How CNI plugins run; default `ip netns exec <node-ns> <plugin>` with the CNI env. */
  readonly invoke?: PluginInvoker;
}

export function defaultInvoker(nodeNetnsName: string): PluginInvoker {
  return async (call) => {
    const r = await run(inNetns(nodeNetnsName, [call.path]), { env: call.env, input: call.stdin, allowFailure: true, timeoutMs: 60_000 });
    return r;
  };
}

export function podKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

export class Kubelet {
  private readonly pods = new Map<string, PodState>();
  private readonly invoke: PluginInvoker;
  private readonly runtimeDir: string;
  private syncing = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastRules = '';
  private lastRulesError = '';
  private readonly hostsWritten = new Map<string, string>();

  constructor(private readonly o: KubeletOptions) {
    this.invoke = o.invoke ?? defaultInvoker(o.node.netns);
    this.runtimeDir = join(o.paths.runtime, o.node.name);
  }

  async start(): Promise<void> {
    await mkdir(this.runtimeDir, { recursive: true });
    await this.cleanupStale();
    this.timer = setInterval(() => this.kick(), SYNC_INTERVAL_MS);
    this.kick();
  }

  /** Stops the loop; pods keep running (as containers outlive a kubelet restart). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const p of this.pods.values()) {
      if (p.retryTimer) clearTimeout(p.retryTimer);
      for (const c of p.containers) {
        c.readiness?.stop();
        c.liveness?.stop();
        if (c.restartTimer) clearTimeout(c.restartTimer);
      }
    }
  }

  kick(): void {
    if (this.closed) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    void this.sync()
      .catch((err: unknown) => this.o.log.error({ err }, 'sync failed'))
      .finally(() => {
        this.syncing = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** A previous kubelet's pods (crash or restart): tear them down, the sync recreates them. */
  private async cleanupStale(): Promise<void> {
    for (const name of await readdir(this.runtimeDir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.runtimeDir, name), 'utf8')) as RuntimeRecord;
        this.o.log.info({ pod: `${rec.namespace}/${rec.name}` }, 'cleaning up a pod of a previous kubelet');
        await this.killPodProcesses(rec);
        await this.teardownSandbox(rec);
      } catch (err) {
        this.o.log.warn({ err, file: name }, 'stale runtime record');
      }
      await rm(join(this.runtimeDir, name), { force: true });
    }
  }

  private async sync(): Promise<void> {
    const { paths, node } = this.o;
    const manifests = (await readObjects(paths.manifests)).map((s) => s.object);
    const podObjs = (await readObjects(paths.pods)).map((s) => s.object);
    const generated = (await readObjects(paths.generated)).map((s) => s.object);
    const allPods = [...manifests, ...podObjs, ...generated].filter((o) => o.kind === 'Pod');
    const mine = new Map<string, KubeObject>();
    for (const p of allPods) if ((p.spec as PodSpec | undefined)?.nodeName === node.name) mine.set(podKey(p), p);

    for (const [key, st] of this.pods) {
      const want = mine.get(key);
      if (!want || want.metadata.uid !== st.obj.metadata.uid) {
        if (!st.stopping) void this.stopPod(st);
      }
    }
    for (const [key, obj] of mine) {
      if (!this.pods.has(key)) this.startPod(obj);
    }
    await this.syncNetwork(allPods, [...manifests, ...generated].filter((o) => o.kind === 'Service'));
  }

  /** kube-proxy rules for this node and every local pod's hosts file, from all pods' status. */
  private async syncNetwork(allPods: readonly KubeObject[], serviceObjs: readonly KubeObject[]): Promise<void> {
    const services = serviceObjs.map(serviceView).filter((s): s is ServiceView => s !== undefined);
    const ready: Endpoint[] = [];
    for (const p of allPods) {
      const ns = p.metadata.namespace ?? 'default';
      const status = await readStatus(this.o.paths.status, `Pod.${ns}.${p.metadata.name}.yaml`);
      const ip = status?.podIP;
      if (typeof ip !== 'string') continue;
      const conds = (status?.conditions as { type: string; status: string }[] | undefined) ?? [];
      if (!conds.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const spec = p.spec as PodSpec | undefined;
      ready.push({ namespace: ns, name: p.metadata.name, ip, labels: p.metadata.labels ?? {}, ports: (spec?.containers ?? []).flatMap((c) => c.ports ?? []) });
    }
    const rules = renderProxyRules(services, ready);
    if (rules !== this.lastRules) {
      try {
        await run(['nft', '-f', '-'], { input: rules });
        this.lastRules = rules;
        this.lastRulesError = '';
      } catch (err) {
        // Retried on every sync; logged once per distinct error.
        if ((err as Error).message !== this.lastRulesError) this.o.log.error({ err }, 'loading the service rules failed');
        this.lastRulesError = (err as Error).message;
      }
    }
    for (const st of this.pods.values()) {
      if (!st.rec.ip || st.stopping) continue;
      const text = renderHosts({ namespace: st.rec.namespace, name: st.rec.name, ip: st.rec.ip }, services, this.extraHosts());
      if (this.hostsWritten.get(st.key) === text) continue;
      await writePodHosts(this.o.paths, st.rec.netns, text);
      this.hostsWritten.set(st.key, text);
    }
  }

  /** The control plane's in-cluster names resolve to the root namespace, where it runs. */
  private extraHosts(): { ip: string; names: readonly string[] }[] {
    return this.o.info.control ? [{ ip: ROOT_UNDERLAY_IP, names: CONTROL_NAMES }] : [];
  }

  private startPod(obj: KubeObject): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = podKey(obj);
    const rec: RuntimeRecord = {
      namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid ?? '',
      netns: podNetns(this.o.info.name, namespace, obj.metadata.name),
      containerId: randomBytes(16).toString('hex'),
    };
    const spec = obj.spec as unknown as PodSpec;
    const st: PodState = {
      key,
      obj,
      rec,
      containers: spec.containers.map((c) => ({
        spec: c,
        procId: `pod-${namespace}.${obj.metadata.name}-${c.name}`,
        restarts: 0,
        running: false,
        ready: false,
        backoffMs: 1000,
      })),
      phase: 'Pending',
      startTime: new Date().toISOString(),
      stopping: false,
      sandboxReady: false,
      sandboxBackoffMs: SANDBOX_RETRY_MS,
    };
    this.pods.set(key, st);
    void this.runSandbox(st);
  }

  private async runSandbox(st: PodState): Promise<void> {
    const log = this.o.log.child({ pod: st.key });
    try {
      for (const c of st.containers) programFor(c.spec.image, st.key); // unknown image: clear error, no sandbox
    } catch (err) {
      st.phase = 'Failed';
      st.reason = 'ErrImagePull';
      st.message = (err as Error).message;
      log.error({ err }, 'pod cannot start');
      await this.writeStatus(st);
      return;
    }
    await this.writeStatus(st);
    try {
      const started = Date.now();
      await this.setupSandbox(st);
      log.info({ ip: st.rec.ip, ms: Date.now() - started }, 'pod sandbox ready');
      st.sandboxReady = true;
      st.reason = undefined;
      st.message = undefined;
    } catch (err) {
      log.error({ err }, 'pod sandbox failed; retrying');
      st.reason = 'FailedCreatePodSandBox';
      st.message = (err as Error).message;
      await this.teardownSandbox(st.rec).catch(() => undefined);
      await this.writeStatus(st);
      if (!st.stopping && !this.closed) {
        st.retryTimer = setTimeout(() => void this.runSandbox(st), st.sandboxBackoffMs);
        st.sandboxBackoffMs = Math.min(st.sandboxBackoffMs * 2, MAX_BACKOFF_MS);
      }
      return;
    }
    if (st.stopping) return;
    for (const c of st.containers) await this.startContainer(st, c);
    await this.writeStatus(st);
  }

  private async readConflist(): Promise<Conflist> {
    const dir = this.o.paths.node(this.o.node.name).confDir;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.conflist')).sort();
    if (files.length === 0) throw new Error(`no .conflist in ${dir}`);
    return JSON.parse(await readFile(join(dir, files[0]), 'utf8')) as Conflist;
  }

  private runtimeArgs(rec: RuntimeRecord, ifname: string): CniRuntimeArgs {
    return {
      containerId: rec.containerId,
      netns: netnsPath(rec.netns),
      ifname,
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: rec.namespace, K8S_POD_NAME: rec.name, K8S_POD_INFRA_CONTAINER_ID: rec.containerId, K8S_POD_UID: rec.uid },
      binDirs: [this.o.paths.node(this.o.node.name).binDir],
      capabilityArgs: { portMappings: [] },
    };
  }

  private chainDeps(rec: RuntimeRecord): { invoke: PluginInvoker; exists: (p: string) => boolean; podRef: string } {
    return { invoke: this.invoke, exists: existsSync, podRef: `${rec.namespace}/${rec.name}` };
  }

  private async setupSandbox(st: PodState): Promise<void> {
    const rec = st.rec;
    await deleteNetns(rec.netns); // a leftover of the same name would carry stale addresses
    await ensureNetns(rec.netns);
    await preparePodEtc(this.o.paths, rec.netns, renderHosts({ namespace: rec.namespace, name: rec.name, ip: '127.0.0.1' }, []));
    await writeAtomic(join(this.runtimeDir, `${rec.namespace}.${rec.name}.json`), JSON.stringify(rec));
    await chainAdd(LOOPBACK_CONF, this.runtimeArgs(rec, 'lo'), this.chainDeps(rec));
    const list = await this.readConflist();
    const result = await chainAdd(list, this.runtimeArgs(rec, 'eth0'), this.chainDeps(rec));
    rec.result = result;
    rec.ip = resultIPv4(result);
    if (!rec.ip) throw new Error('the CNI result has no IPv4 address');
    await writeAtomic(join(this.runtimeDir, `${rec.namespace}.${rec.name}.json`), JSON.stringify(rec));
    this.hostsWritten.delete(st.key);
    await writePodHosts(this.o.paths, rec.netns, renderHosts({ namespace: rec.namespace, name: rec.name, ip: rec.ip }, [], this.extraHosts()));
  }

  private async teardownSandbox(rec: RuntimeRecord): Promise<void> {
    try {
      const list = await this.readConflist();
      await chainDel(list, this.runtimeArgs(rec, 'eth0'), rec.result, this.chainDeps(rec));
    } catch (err) {
      this.o.log.warn({ err, pod: `${rec.namespace}/${rec.name}` }, 'CNI DEL failed');
    }
    await chainDel(LOOPBACK_CONF, this.runtimeArgs(rec, 'lo'), undefined, this.chainDeps(rec)).catch(() => undefined);
    await deleteNetns(rec.netns);
    await removePodEtc(this.o.paths, rec.netns);
  }

  private async killPodProcesses(rec: RuntimeRecord): Promise<void> {
    const prefix = `pod-${rec.namespace}.${rec.name}-`;
    for (const r of await listRecords(this.o.paths.procs)) {
      if (!r.id.startsWith(prefix)) continue;
      await stopProcess(r, 2000);
      await forgetRecord(this.o.paths.procs, r.id);
    }
  }

  private async startContainer(st: PodState, c: ContainerState): Promise<void> {
    if (st.stopping || this.closed) return;
    const log = this.o.log.child({ pod: st.key, container: c.spec.name });
    try {
      const mounts = await containerVolumes(this.o.paths, this.o.node, st, c.spec);
      const argv = inPod(this.o.paths, st.rec.netns, containerArgv(st, c.spec, mounts, this.o.info.distDir));
      const env = containerEnv(st, c.spec, this.o.node, this.o.info.name);
      for (const [k, v] of Object.entries(env)) if (v !== undefined) env[k] = rewritePath(v, mounts);
      const { child, exited } = await startProcess(this.o.paths.procs, this.o.paths.logs, c.procId, argv, {
        env,
        cwd: join(this.o.info.distDir, '..'),
      });
      c.child = child;
      c.running = true;
      c.error = undefined;
      c.startedAt = new Date().toISOString();
      void exited.then(({ code, signal }) => this.onExit(st, c, code, signal));
      this.startProbes(st, c);
      if (st.phase === 'Pending') st.phase = 'Running';
      log.info({ pid: child.pid, restarts: c.restarts }, 'container started');
    } catch (err) {
      c.error = (err as Error).message;
      log.error({ err }, 'container start failed');
      this.scheduleRestart(st, c);
    }
  }

  private startProbes(st: PodState, c: ContainerState): void {
    const ip = st.rec.ip!;
    c.ready = c.spec.readinessProbe === undefined;
    if (c.spec.readinessProbe) {
      c.readiness = new ProbeLoop(ip, c.spec.readinessProbe, c.spec, (ok) => {
        c.ready = ok;
        void this.writeStatus(st);
      });
      c.readiness.start();
    }
    if (c.spec.livenessProbe) {
      c.liveness = new ProbeLoop(ip, c.spec.livenessProbe, c.spec, (ok) => {
        if (ok || !c.child) return;
        this.o.log.warn({ pod: st.key, container: c.spec.name }, 'liveness probe failed; restarting the container');
        c.child.kill('SIGKILL');
      });
      c.liveness.start();
    }
  }

  private async onExit(st: PodState, c: ContainerState, code: number | null, signal: string | null): Promise<void> {
    c.running = false;
    c.ready = false;
    c.child = undefined;
    c.readiness?.stop();
    c.liveness?.stop();
    c.readiness = undefined;
    c.liveness = undefined;
    c.lastExit = { code, signal, at: new Date().toISOString() };
    if (st.stopping || this.closed) return;
    this.o.log.info({ pod: st.key, container: c.spec.name, code, signal }, 'container exited');
    const policy = (st.obj.spec as unknown as PodSpec).restartPolicy ?? 'Always';
    const failed = code !== 0;
    if (policy === 'Always' || (policy === 'OnFailure' && failed)) {
      // Reset the back-off after a long enough run, as the kubelet does for CrashLoopBackOff.
      if (c.startedAt && Date.now() - Date.parse(c.startedAt) > 60_000) c.backoffMs = 1000;
      this.scheduleRestart(st, c);
    } else if (st.containers.every((x) => !x.running && !x.restartTimer)) {
      st.phase = st.containers.some((x) => x.lastExit?.code !== 0) ? 'Failed' : 'Succeeded';
    }
    await this.writeStatus(st);
  }

  private scheduleRestart(st: PodState, c: ContainerState): void {
    const delay = c.backoffMs;
    c.backoffMs = Math.min(c.backoffMs * 2, MAX_BACKOFF_MS);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      c.restarts++;
      void this.startContainer(st, c).then(() => this.writeStatus(st));
    }, delay);
  }

  private async stopPod(st: PodState): Promise<void> {
    st.stopping = true;
    if (st.retryTimer) clearTimeout(st.retryTimer);
    for (const c of st.containers) {
      if (c.restartTimer) clearTimeout(c.restartTimer);
      c.readiness?.stop();
      c.liveness?.stop();
    }
    await this.killPodProcesses(st.rec);
    await this.teardownSandbox(st.rec);
    await rm(join(this.runtimeDir, `${st.rec.namespace}.${st.rec.name}.json`), { force: true });
    await removeFile(join(this.o.paths.status, `Pod.${st.rec.namespace}.${st.rec.name}.yaml`));
    this.hostsWritten.delete(st.key);
    if (this.pods.get(st.key) === st) this.pods.delete(st.key);
    this.o.log.info({ pod: st.key }, 'pod removed');
    this.kick();
  }

  private async writeStatus(st: PodState): Promise<void> {
    if (st.stopping) return;
    const status = podStatus(st, this.o.node.ip, new Date().toISOString());
    // Skip rewriting when only the timestamps would change: the control plane watches these files.
    const fingerprint = JSON.stringify({ ...status, conditions: (status.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]) });
    if (fingerprint === st.lastStatus) return;
    st.lastStatus = fingerprint;
    await writeObject(this.o.paths.status, `Pod.${st.rec.namespace}.${st.rec.name}.yaml`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: st.rec.name, namespace: st.rec.namespace },
      status,
    });
    this.kick(); // readiness changes endpoints
  }
}
