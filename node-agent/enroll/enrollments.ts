import { existsSync } from 'node:fs';
import { WeftError } from '../../lib/errors/index.js';
import type { EnrollmentRequest, EnrollmentResponse } from '../../lib/enrollment.js';
import type { ResourceKind, StateView, Workload } from '../../lib/model/index.js';
import { LABEL_DATAPLANE_MODE } from '../../lib/names.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { SocketFactory } from '../netns/socket-factory.js';
import type { ProxyInputs } from '../proxy/inputs.js';
import { PodProxy } from '../proxy/pod-proxy.js';
import { captureInstalled, defaultGateway, installCapture, removeCapture } from './capture.js';
import type { EnrolledPod, StateFile } from './state-file.js';

export interface CaptureDecision {
  readonly captured: boolean;
  readonly reason: string;
}

/** Whether a known workload is captured: the control plane's `captured`, never when labelled `none`. */
export function decideForWorkload(w: Workload): CaptureDecision {
  if (w.labels[LABEL_DATAPLANE_MODE] === 'none') return { captured: false, reason: `${LABEL_DATAPLANE_MODE}=none` };
  if (w.captured) return { captured: true, reason: 'enrolled' };
  return { captured: false, reason: 'namespace not labelled' };
}

/**
 * For a pod not (yet) in cluster state: its namespace is taken as labelled when any other workload in
 * it is captured (namespace capture is what marks them; pod-level opt-outs are rare and are corrected
 * by reconcile once the pod shows up).
 */
export function decideForUnknownPod(view: StateView, namespace: string): CaptureDecision {
  for (const w of view.workloads()) {
    if (w.namespace === namespace && w.captured) return { captured: true, reason: 'enrolled (namespace captured; pod not yet in state)' };
  }
  return { captured: false, reason: 'namespace not labelled' };
}

/** Pod IPs from a CNI prevResult (`ips[].address` in CIDR form) and the gateways next to them. */
export function addressesFromPrevResult(prev: Record<string, unknown> | undefined): { ips: string[]; gateways: string[] } {
  const ips: string[] = [];
  const gateways: string[] = [];
  const list = Array.isArray(prev?.ips) ? (prev.ips as unknown[]) : [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const { address, gateway } = e as { address?: unknown; gateway?: unknown };
    if (typeof address === 'string') ips.push(address.split('/')[0]);
    if (typeof gateway === 'string' && !gateways.includes(gateway)) gateways.push(gateway);
  }
  // A default route's `gw` names the gateway too (results whose ips[] carry none): no `ip route` spawn.
  for (const r of Array.isArray(prev?.routes) ? (prev.routes as unknown[]) : []) {
    if (typeof r !== 'object' || r === null) continue;
    const { dst, gw } = r as { dst?: unknown; gw?: unknown };
    if ((dst === '0.0.0.0/0' || dst === '::/0') && typeof gw === 'string' && !gateways.includes(gw)) gateways.push(gw);
  }
  return { ips, gateways };
}

export interface EnrollmentsOptions {
  readonly view: StateView;
  readonly inputs: ProxyInputs;
  readonly stateFile: StateFile;
  readonly nodeName: string;
  readonly factoryFor: (netns: string) => SocketFactory;
  readonly log: Logger;
  /** How long ADD waits for the pod (or the first state) to appear. */
  readonly waitMs?: number;
  /** Netns path of a running pod by its IPs when neither cluster state nor ADD gave one (host procfs). */
  readonly findNetns?: (ips: readonly string[]) => Promise<string | undefined>;
}

interface Entry {
  record: EnrolledPod;
  proxy: PodProxy;
}

/**
 * The enrolled pods of this node: CNI ADD/DEL/CHECK, restore from the state file after a restart, and
 * reconcile from cluster state (pods that existed before their namespace was labelled; labels removed).
 * Operations run one at a time, so a reconcile never races an ADD for the same pod.
 */
export class Enrollments {
  private readonly pods = new Map<string, Entry>();
  /**
   * Pods this agent saw at ADD (captured or not) and has not seen deleted: their netns is known, so a
   * namespace labelled later captures them even when cluster state carries no netns for them.
   */
  private readonly seen = new Map<string, EnrolledPod>();
  /** Tail of the exclusive operations (reconcile, restore); per-pod operations start after it. */
  private exclusive: Promise<unknown> = Promise.resolve();
  /** Per-pod operations in flight (settled-safe): an exclusive operation waits for all of them. */
  private readonly running = new Set<Promise<unknown>>();
  /** Tail of each pod's operations: ADD/DEL/CHECK of one pod run in order, different pods in parallel. */
  private readonly podTails = new Map<string, Promise<unknown>>();
  /** Pods whose ADD is installing capture: written to the state file ahead (see add). */
  private readonly enrolling = new Map<string, EnrolledPod>();
  /** Identities whose certificate was asked for ahead of the first connection. */
  private readonly prefetched = new Set<string>();
  private pendingSave: Promise<void> | undefined;
  private lastSave: Promise<unknown> = Promise.resolve();
  private readonly waitMs: number;
  private readonly onChange = (kinds: ReadonlySet<ResourceKind>): void => {
    if (kinds.has('Workload')) {
      this.prefetchCertificates();
      void this.serial(() => this.reconcile()).catch((err: unknown) => this.o.log.warn({ err }, 'reconcile failed'));
    }
  };

  constructor(private readonly o: EnrollmentsOptions) {
    this.waitMs = o.waitMs ?? 3000;
    o.view.on('change', this.onChange);
  }

  list(): EnrolledPod[] {
    return [...this.pods.values()].map((e) => e.record);
  }

  get size(): number {
    return this.pods.size;
  }

  add(req: EnrollmentRequest): Promise<EnrollmentResponse> {
    const key = `${req.podNamespace}/${req.podName}`;
    const prelude = async (): Promise<Workload | undefined> => {
      if (!req.netns || !existsSync(req.netns)) {
        throw new WeftError('ERR_WEFT_AGENT_NETNS_MISSING', { netns: req.netns || '(empty)', pod: key, reason: 'no such file' });
      }
      return this.waitForWorkload(req.podNamespace, req.podName, req.podUid);
    };
    return this.perPod(key, prelude, async (w) => {
      const decision = w ? decideForWorkload(w) : decideForUnknownPod(this.o.view, req.podNamespace);
      const { ips, gateways } = addressesFromPrevResult(req.prevResult);
      // The netns' gateway rarely changes: a repeated ADD (runtime retry) reuses the one found before.
      const before = this.seen.get(key);
      const probeSources = gateways.length ? gateways : before?.netns === req.netns && before.probeSources.length ? before.probeSources : await gatewaysOf(req.netns);
      const record: EnrolledPod = {
        uid: req.podUid || w?.uid || '',
        namespace: req.podNamespace,
        name: req.podName,
        containerId: req.containerId,
        netns: req.netns,
        ips: ips.length ? ips : (w?.ips ?? []),
        probeSources,
        source: 'cni',
      };
      this.seen.set(key, record);
      if (!decision.captured) {
        if (this.pods.has(key)) await this.release(key);
        await this.save();
        this.o.log.info({ pod: key, reason: decision.reason }, 'pod not captured');
        return { captured: false, reason: decision.reason };
      }
      // The certificate is not needed to answer: fetch it now so the first connection finds it (a
      // connection that comes earlier waits for it in the HBONE server).
      if (w) this.prefetchCertificate(w);
      // Write-ahead: the state file (an fsync) is written while capture is installed, not after it; a
      // restart in between re-enrolls the pod, which is what the runtime's retry of ADD would do anyway.
      this.enrolling.set(key, record);
      const saved = this.save();
      saved.catch(() => undefined);
      try {
        await this.enroll(record);
      } catch (err) {
        this.enrolling.delete(key);
        await this.save().catch(() => undefined);
        throw err;
      }
      this.enrolling.delete(key);
      await saved;
      return { captured: true, reason: decision.reason };
    });
  }

  del(req: EnrollmentRequest): Promise<EnrollmentResponse> {
    const key = `${req.podNamespace}/${req.podName}`;
    return this.perPod(key, noPrelude, async () => {
      const e = this.pods.get(key);
      const forgot = this.seen.delete(key);
      if (e && (!req.containerId || e.record.containerId === req.containerId || e.record.source === 'state')) {
        await this.release(key);
        await this.save();
      } else if (forgot) {
        await this.save();
      }
      return { captured: false, reason: 'released' };
    });
  }

  check(req: EnrollmentRequest): Promise<EnrollmentResponse> {
    const key = `${req.podNamespace}/${req.podName}`;
    return this.perPod(key, noPrelude, async () => {
      const e = this.pods.get(key);
      if (!e) return { captured: false, reason: 'not enrolled' };
      if (!(await captureInstalled(e.record.netns))) {
        throw new WeftError('ERR_WEFT_AGENT_CAPTURE_FAILED', { netns: e.record.netns, pod: key, reason: 'capture rules are missing' });
      }
      return { captured: true, reason: 'enrolled' };
    });
  }

  /** Re-enrolls every pod in the state file whose netns still exists (agent restart). */
  restore(): Promise<number> {
    return this.serial(async () => {
      const saved = await this.o.stateFile.load();
      for (const k of saved.known) if (existsSync(k.netns)) this.seen.set(`${k.namespace}/${k.name}`, k);
      for (const r of saved.pods) if (existsSync(r.netns)) this.seen.set(`${r.namespace}/${r.name}`, r);
      let n = 0;
      for (const r of saved.pods) {
        if (!existsSync(r.netns)) {
          this.o.log.info({ pod: `${r.namespace}/${r.name}`, netns: r.netns }, 'enrolled pod gone while the agent was down');
          continue;
        }
        try {
          await this.enroll(r);
          n++;
        } catch (err) {
          this.o.log.error({ err, pod: `${r.namespace}/${r.name}` }, 'cannot re-enroll pod from state file');
        }
      }
      await this.save();
      return n;
    });
  }

  /** Releases every pod's listeners (capture rules stay: a restarted agent takes over). */
  close(): void {
    this.o.view.off('change', this.onChange);
    for (const e of this.pods.values()) e.proxy.stop();
    this.pods.clear();
  }

  /** Brings enrollment in line with cluster state for this node's pods. */
  private async reconcile(): Promise<void> {
    const view = this.o.view;
    let changed = false;
    for (const w of view.workloadsOnNode(this.o.nodeName)) {
      const key = `${w.namespace}/${w.name}`;
      const seen = this.seen.get(key);
      // No netns known (the pod ran before weft, or the state file was lost): look in the host's procfs.
      const lookup = w.node === this.o.nodeName && w.ips.length > 0 && !this.pods.has(key) && decideForWorkload(w).captured;
      const netns = w.netns ?? seen?.netns ?? (lookup ? await this.o.findNetns?.(w.ips) : undefined);
      if (w.node !== this.o.nodeName || !netns) continue;
      const ips = w.ips.length ? w.ips : (seen?.ips ?? []);
      const d = decideForWorkload(w);
      if (d.captured && !this.pods.has(key) && ips.length > 0 && existsSync(netns)) {
        try {
          await this.enroll({ uid: w.uid, namespace: w.namespace, name: w.name, containerId: seen?.containerId ?? '', netns, ips, probeSources: seen?.probeSources ?? (await gatewaysOf(netns)), source: 'state' });
          this.o.log.info({ pod: key }, 'enrolled running pod from cluster state');
          changed = true;
        } catch (err) {
          this.o.log.error({ err, pod: key }, 'cannot enroll running pod');
        }
      }
    }
    for (const [key, e] of [...this.pods]) {
      const w = e.record.uid ? view.workloadByUid(e.record.uid) : undefined;
      const byName = w ?? view.workloadByName(e.record.namespace, e.record.name);
      if (byName && !decideForWorkload(byName).captured) {
        this.o.log.info({ pod: key, reason: decideForWorkload(byName).reason }, 'releasing pod');
        await this.release(key);
        changed = true;
      } else if (!byName && e.record.source === 'state' && view.synced('Workload')) {
        await this.release(key);
        changed = true;
      }
    }
    if (changed) await this.save();
  }

  private async enroll(r: EnrolledPod): Promise<void> {
    const key = `${r.namespace}/${r.name}`;
    const existing = this.pods.get(key);
    if (existing && existing.record.netns !== r.netns) await this.release(key);
    let entry = this.pods.get(key);
    if (!entry) {
      const proxy = new PodProxy(this.o.inputs, { uid: r.uid, namespace: r.namespace, name: r.name, ips: r.ips }, this.o.factoryFor(r.netns));
      await proxy.start();
      entry = { record: r, proxy };
    } else {
      entry.record = { ...r, source: entry.record.source === 'cni' ? 'cni' : r.source };
    }
    try {
      // Listeners first, then rules: a redirected connection never finds nobody listening.
      await installCapture({ netns: r.netns, probeSources: r.probeSources }, key);
    } catch (err) {
      if (!existing) entry.proxy.stop();
      throw err;
    }
    this.pods.set(key, entry);
  }

  private async release(key: string): Promise<void> {
    const e = this.pods.get(key);
    if (!e) return;
    this.pods.delete(key);
    e.proxy.stop();
    if (existsSync(e.record.netns)) await removeCapture(e.record.netns, key);
  }

  /**
   * Writes the state file. Saves coalesce: a call made while a write is in flight shares the next write,
   * which snapshots the state when it starts, so N concurrent ADDs cost two fsyncs, not N in a row.
   */
  private save(): Promise<void> {
    if (this.pendingSave) return this.pendingSave;
    const next = this.lastSave.then(() => {
      this.pendingSave = undefined;
      const pods = this.list();
      for (const [k, r] of this.enrolling) if (!this.pods.has(k)) pods.push(r);
      const known = [...this.seen].filter(([k]) => !this.pods.has(k) && !this.enrolling.has(k)).map(([, r]) => r);
      return this.o.stateFile.save(pods, known);
    });
    this.pendingSave = next;
    this.lastSave = next.catch(() => undefined);
    return next;
  }

  /** Asks for the certificates of this node's captured workloads before their first connection needs them. */
  private prefetchCertificates(): void {
    for (const w of this.o.view.workloadsOnNode(this.o.nodeName)) {
      if (decideForWorkload(w).captured) this.prefetchCertificate(w);
    }
  }

  private prefetchCertificate(w: Workload): void {
    const tls = this.o.inputs.tls;
    const id = tls.identityOf(w.namespace, w.serviceAccount);
    const key = id.toString();
    if (this.prefetched.has(key)) return;
    this.prefetched.add(key);
    // Renewal is the CertificateManager's; a failure is retried on demand by the first connection and
    // by the next prefetch (the identity is forgotten here).
    tls.certificate(id).catch((err: unknown) => {
      this.prefetched.delete(key);
      this.o.log.debug({ err, identity: key }, 'certificate prefetch failed');
    });
  }

  /** The pod's Workload, waiting (woken by state changes, not polling) up to waitMs for it to show up. */
  private async waitForWorkload(namespace: string, name: string, uid: string): Promise<Workload | undefined> {
    const view = this.o.view;
    const find = (): Workload | undefined => (uid ? view.workloadByUid(uid) : undefined) ?? view.workloadByName(namespace, name);
    const now = find();
    if (now) return now;
    const w = await new Promise<Workload | undefined>((resolve) => {
      const onChange = (kinds: ReadonlySet<ResourceKind>): void => {
        if (!kinds.has('Workload')) return;
        const found = find();
        if (found) done(found);
      };
      const done = (found: Workload | undefined): void => {
        clearTimeout(timer);
        view.off('change', onChange);
        resolve(found);
      };
      const timer = setTimeout(() => done(undefined), this.waitMs);
      view.on('change', onChange);
    });
    if (!w && !view.synced('Workload')) throw new WeftError('ERR_WEFT_AGENT_NOT_READY', { reason: 'no cluster state yet' });
    return w;
  }

  /** Runs `fn` alone: after every operation queued before it, and before any queued after it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const before = [this.exclusive, ...this.running];
    const p = Promise.all(before).then(fn);
    this.exclusive = p.catch(() => undefined);
    return p;
  }

  /**
   * Runs one pod's operation: after that pod's earlier operations, in parallel with other pods'. The
   * `prelude` (waiting for the pod to show up in cluster state, up to waitMs) holds nothing else up;
   * `body` then starts after the exclusive operations queued before it, and those queued later wait
   * for it. Before, every ADD waited behind the ADDs ahead of it, so one pod waiting for state or a
   * slow nft on a loaded node pushed the ADDs behind it past the plugin's timeout.
   */
  private perPod<P, T>(key: string, prelude: () => Promise<P>, body: (p: P) => Promise<T>): Promise<T> {
    const p = (this.podTails.get(key) ?? Promise.resolve())
      .then(prelude)
      .then((x) => {
        // Read the gate and register in `running` in the same tick: an exclusive operation queued from
        // now on sees this one, one queued before is in `exclusive`.
        const run = this.exclusive.then(() => body(x));
        const settled = run.catch(() => undefined);
        this.running.add(settled);
        void settled.then(() => this.running.delete(settled));
        return run;
      });
    const tail = p.catch(() => undefined);
    this.podTails.set(key, tail);
    void tail.then(() => {
      if (this.podTails.get(key) === tail) this.podTails.delete(key);
    });
    return p;
  }
}

const noPrelude = (): Promise<undefined> => Promise.resolve(undefined);

async function gatewaysOf(netns: string): Promise<string[]> {
  const gw = await defaultGateway(netns);
  return gw ? [gw] : [];
}
