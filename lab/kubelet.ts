import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import type { PluginInvoker } from './cni-chain.js';
import { programFor } from './images.js';
import type { KubeObject, PodSpec } from './manifests.js';
import { type LabPaths, podNetns, ROOT_UNDERLAY_IP } from './names.js';
import { ProbeLoop } from './probes.js';
import { CONTROL_NAMES } from './mesh.js';
import { inPod } from './pod-etc.js';
import { defaultInvoker, PodSandbox } from './pod-sandbox.js';
import type { NodePods } from './kube/node-pods.js';
import type { ProxyWatch } from './kube/proxy-watch.js';
import { rewritePath } from './volumes.js';
import { forgetRecord, listRecords, startProcess, stopProcess } from './processes.js';
import { NodeProxy } from './node-proxy.js';
import { writeNodePodTargets } from './prometheus/write-pod-targets.js';
import type { LabInfo } from './state.js';
import type { NodeInfo } from './topology.js';
import { checkHostPaths, containerArgv, containerEnv, containerVolumes, expandEnvRefs, fixedRunMounts, probeTarget } from './container-launch.js';
import { podStatus, runNetns, type ContainerState, type PodState, type RuntimeRecord } from './pod-state.js';

/**
 * The lab's kubelet and container runtime for one node. It runs inside the node's network namespace
 * (so that probes leave from the node, as a kubelet's do) and, for each Pod bound to its node: creates
 * the pod's sandbox (pod-sandbox.ts: namespace and CNI chain), starts each container's program in it,
 * restarts it per restartPolicy, probes it, and reports the Pod's status. Its pods are those the API
 * server's scheduler bound to this node, once `watchApi` gave it the node's pod watch; status goes to the
 * Pod's status subresource, and a terminating Pod is deleted for good once its processes and network are
 * gone. It is also the node's kube-proxy (nftables DNAT for Service VIPs, services.ts) and writes each
 * pod's hosts file (pod-etc.ts: replaced atomically, as the pod sees it), from the API server's Services
 * and EndpointSlices as kube-proxy reads them (proxy-watch.ts); and it lists its annotated pods for the
 * lab's Prometheus (write-pod-targets.ts).
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
  private readonly proxy: NodeProxy;
  private readonly sandbox: PodSandbox;
  /** uids of terminating API pods whose final delete is in flight. */
  private readonly finalizing = new Set<string>();
  private apiPods: NodePods | undefined;
  /** The Prometheus targets file's text as last written (write-pod-targets.ts). */
  private targets: string | undefined;

  constructor(private readonly o: KubeletOptions) {
    this.invoke = o.invoke ?? defaultInvoker(o.node.netns);
    this.runtimeDir = join(o.paths.runtime, o.node.name);
    this.proxy = new NodeProxy(o.paths, o.log, () => this.extraHosts());
    this.sandbox = new PodSandbox({ paths: o.paths, node: o.node.name, runtimeDir: this.runtimeDir, invoke: this.invoke, log: o.log, extraHosts: () => this.extraHosts() });
  }

  async start(): Promise<void> {
    await mkdir(this.runtimeDir, { recursive: true });
    await this.cleanupStale();
    this.timer = setInterval(() => this.kick(), SYNC_INTERVAL_MS);
    this.kick();
  }

  /**
   * From now on runs the pods the API server bound to this node and proxies the API server's Services
   * (kubelet-main connects them).
   */
  watchApi(pods: NodePods, proxy?: ProxyWatch): void {
    this.apiPods = pods;
    this.proxy.watch = proxy;
    this.kick();
  }

  /** Stops the loop; pods keep running (as containers outlive a kubelet restart). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const p of this.pods.values()) {
      if (p.retryTimer) clearTimeout(p.retryTimer);
      p.tokens?.stop();
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
        await this.sandbox.teardown(rec);
      } catch (err) {
        this.o.log.warn({ err, file: name }, 'stale runtime record');
      }
      await rm(join(this.runtimeDir, name), { force: true });
    }
  }

  private async sync(): Promise<void> {
    const api = this.apiPods;
    if (!api) return;
    const mine = new Map<string, KubeObject>();
    for (const p of api.list()) {
      const key = podKey(p);
      if (p.metadata.deletionTimestamp !== undefined) {
        if (!this.pods.has(key)) this.finalize(key, p);
        continue;
      }
      const phase = p.status?.phase;
      if ((phase === 'Succeeded' || phase === 'Failed') && !this.pods.has(key)) continue; // finished: never started again
      mine.set(key, p);
    }

    // Before the first list, "no pods" means "not known yet".
    if (api.isSynced) {
      for (const [key, st] of this.pods) {
        const want = mine.get(key);
        if (!want || want.metadata.uid !== st.obj.metadata.uid) {
          if (!st.stopping) void this.stopPod(st);
        } else if (!st.stopping) void this.writeStatus(st); // retries a status write that failed
      }
    }
    for (const [key, want] of mine) {
      if (!this.pods.has(key)) this.startPod(want);
    }
    await this.proxy.sync(this.pods.values());
    const running = [...this.pods.values()].filter((st) => !st.stopping).map((st) => ({ obj: st.obj, ip: st.rec.ip, node: this.o.node.name }));
    this.targets = await writeNodePodTargets(this.o.paths, this.o.node.name, running, this.targets);
  }

  /** The final delete of a terminating API pod that runs nothing here (any more). */
  private finalize(key: string, p: KubeObject): void {
    const uid = p.metadata.uid ?? '';
    if (this.finalizing.has(uid) || !this.apiPods) return;
    this.finalizing.add(uid);
    this.apiPods
      .finalize(p.metadata.namespace ?? 'default', p.metadata.name, uid)
      .then(
        () => this.o.log.info({ pod: key }, 'pod deleted'),
        (err: unknown) => this.o.log.error({ err, pod: key }, 'deleting the terminated pod failed'), // retried on a later sync
      )
      .finally(() => this.finalizing.delete(uid));
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
    if (spec.hostNetwork === true) Object.assign(rec, { hostNetns: this.o.node.netns, ip: this.o.node.ip });
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
      // An image the lab cannot run stays Pending with the reason a kubelet gives one it cannot pull (a
      // Failed pod would make its ReplicaSet create another, and another).
      for (const c of st.containers) programFor(c.spec.image, st.key);
    } catch (err) {
      st.reason = 'ErrImagePull';
      st.message = (err as Error).message;
      log.error({ err }, 'pod cannot start');
      await this.writeStatus(st);
      return;
    }
    try {
      checkHostPaths(this.o.paths, this.o.node, st); // a hostPath the lab cannot map: refused, as a mount failure
    } catch (err) {
      st.reason = 'CreateContainerConfigError';
      st.message = (err as Error).message;
      log.error({ err }, 'pod cannot start');
      await this.writeStatus(st);
      return;
    }
    await this.writeStatus(st);
    try {
      const started = Date.now();
      await this.sandbox.setup(st.rec);
      this.proxy.forgetHosts(st.key);
      log.info({ ip: st.rec.ip, ms: Date.now() - started }, 'pod sandbox ready');
      st.sandboxReady = true;
      st.reason = undefined;
      st.message = undefined;
    } catch (err) {
      log.error({ err }, 'pod sandbox failed; retrying');
      st.reason = 'FailedCreatePodSandBox';
      st.message = (err as Error).message;
      await this.sandbox.teardown(st.rec).catch(() => undefined);
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

  /** SIGTERM to every container at once, SIGKILL after the pod's grace period (a previous kubelet's: 2 s). */
  private async killPodProcesses(rec: RuntimeRecord, graceMs = 2000): Promise<void> {
    const prefix = `pod-${rec.namespace}.${rec.name}-`;
    const mine = (await listRecords(this.o.paths.procs)).filter((r) => r.id.startsWith(prefix));
    await Promise.all(mine.map(async (r) => {
      await stopProcess(r, graceMs);
      await forgetRecord(this.o.paths.procs, r.id);
    }));
  }

  private async startContainer(st: PodState, c: ContainerState): Promise<void> {
    if (st.stopping || this.closed) return;
    const log = this.o.log.child({ pod: st.key, container: c.spec.name });
    // A volume that cannot be set up yet (a ConfigMap the control plane has not published) keeps the
    // container in ContainerCreating and is tried again, as a kubelet retries a mount: no process ran, so
    // it is no restart and no CrashLoopBackOff.
    let mounts: Map<string, string>;
    try {
      mounts = await containerVolumes(this.o.paths, this.o.node, st, c.spec, this.apiPods, log);
      c.mountPending = false;
    } catch (err) {
      c.error = (err as Error).message;
      c.mountPending = true;
      log.warn({ err }, 'volume setup failed; retrying');
      this.scheduleRestart(st, c, { counts: false });
      return;
    }
    try {
      const env = containerEnv(st, c.spec, this.o.node, this.o.info.name, this.apiPods?.server);
      const argv = inPod(this.o.paths, runNetns(st.rec), expandEnvRefs(containerArgv(st, c.spec, mounts, this.o.info.distDir), env, c.spec), st.rec.netns, fixedRunMounts(mounts));
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
      this.startProbes(st, c, mounts);
      if (st.phase === 'Pending') st.phase = 'Running';
      log.info({ pid: child.pid, restarts: c.restarts }, 'container started');
    } catch (err) {
      c.error = (err as Error).message;
      log.error({ err }, 'container start failed');
      this.scheduleRestart(st, c);
    }
  }

  private startProbes(st: PodState, c: ContainerState, mounts: ReadonlyMap<string, string>): void {
    const target = probeTarget(this.o.paths, st.rec, mounts);
    c.ready = c.spec.readinessProbe === undefined;
    if (c.spec.readinessProbe) {
      c.readiness = new ProbeLoop(target, c.spec.readinessProbe, c.spec, (ok) => {
        c.ready = ok;
        void this.writeStatus(st);
      });
      c.readiness.start();
    }
    if (c.spec.livenessProbe) {
      c.liveness = new ProbeLoop(target, c.spec.livenessProbe, c.spec, (ok) => {
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

  private scheduleRestart(st: PodState, c: ContainerState, o: { counts: boolean } = { counts: true }): void {
    const delay = c.backoffMs;
    c.backoffMs = Math.min(c.backoffMs * 2, MAX_BACKOFF_MS);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      if (o.counts) c.restarts++;
      void this.startContainer(st, c).then(() => this.writeStatus(st));
    }, delay);
  }

  private async stopPod(st: PodState): Promise<void> {
    st.stopping = true;
    if (st.retryTimer) clearTimeout(st.retryTimer);
    st.tokens?.stop();
    for (const c of st.containers) {
      if (c.restartTimer) clearTimeout(c.restartTimer);
      c.readiness?.stop();
      c.liveness?.stop();
    }
    await this.killPodProcesses(st.rec, ((st.obj.spec as unknown as PodSpec).terminationGracePeriodSeconds ?? 30) * 1000);
    await this.sandbox.teardown(st.rec);
    await rm(this.sandbox.recordFile(st.rec), { force: true });
    // Gone from this node: the API pod (this uid only) can go, as a kubelet's status manager deletes it.
    await this.apiPods?.finalize(st.rec.namespace, st.rec.name, st.rec.uid).catch((err: unknown) => this.o.log.error({ err, pod: st.key }, 'deleting the terminated pod failed'));
    this.proxy.forgetHosts(st.key);
    if (this.pods.get(st.key) === st) this.pods.delete(st.key);
    this.o.log.info({ pod: st.key }, 'pod removed');
    this.kick();
  }

  private async writeStatus(st: PodState): Promise<void> {
    if (st.stopping) return;
    const status = podStatus(st, this.o.node.ip, new Date().toISOString());
    // Skip rewriting when only the timestamps would change.
    const fingerprint = JSON.stringify({ ...status, conditions: (status.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]) });
    if (fingerprint === st.lastStatus) return;
    st.lastStatus = fingerprint;
    try {
      await this.apiPods?.writeStatus(st.rec.namespace, st.rec.name, status);
    } catch (err) {
      st.lastStatus = undefined; // the next sync writes it again
      this.o.log.error({ err, pod: st.key }, 'writing the pod status failed');
    }
    // The watch brings it back, and with it the endpoints' change.
  }
}
