import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import { readObjects, removeFile, writeAtomic, writeObject } from './cluster-store.js';
import { newPodFor, orphans, planDeployment, randomSuffix, roundRobin } from './deployments.js';
import type { KubeObject, PodSpec } from './manifests.js';
import { manifestFileName } from './manifests.js';
import { allocateGeneratedVips } from './apiserver.js';
import type { LabPaths } from './names.js';
import { writePodTargets } from './prometheus/write-pod-targets.js';

/**
 * The lab's controller manager and scheduler, one process per lab in the host namespace: it creates and
 * removes the Pods of Deployments (from manifests/ and from generated/, where the control plane's
 * waypoint controller writes) in pods/, and binds unscheduled Pods to nodes round robin by writing
 * `spec.nodeName` into the Pod object, as the scheduler's binding does.
 */
const SYNC_INTERVAL_MS = 1000;

export class Controller {
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private again = false;
  private counter = 0;
  private readonly counterFile: string;

  constructor(
    private readonly paths: LabPaths,
    private readonly nodes: readonly string[],
    private readonly log: Logger,
  ) {
    this.counterFile = join(paths.root, 'scheduler.json');
  }

  async start(): Promise<void> {
    try {
      this.counter = (JSON.parse(await readFile(this.counterFile, 'utf8')) as { next: number }).next;
    } catch {
      this.counter = 0;
    }
    this.timer = setInterval(() => this.kick(), SYNC_INTERVAL_MS);
    this.kick();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  kick(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    void this.sync()
      .catch((err: unknown) => this.log.error({ err }, 'controller sync failed'))
      .finally(() => {
        this.syncing = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async nextNode(): Promise<string> {
    const node = roundRobin(this.nodes, this.counter++);
    await writeAtomic(this.counterFile, JSON.stringify({ next: this.counter }));
    return node;
  }

  private async sync(): Promise<void> {
    for (const key of await allocateGeneratedVips(this.paths)) this.log.info({ service: key }, 'allocated a cluster IP for a generated service');
    const manifests = await readObjects(this.paths.manifests);
    const generated = await readObjects(this.paths.generated);
    const pods = (await readObjects(this.paths.pods)).filter((s) => s.object.kind === 'Pod');
    const deployments = [...manifests, ...generated].map((s) => s.object).filter((o) => o.kind === 'Deployment');
    let podObjs = pods.map((s) => s.object);

    for (const orphan of orphans(podObjs, deployments)) {
      await removeFile(join(this.paths.pods, `${orphan.metadata.namespace}.${orphan.metadata.name}.yaml`));
      this.log.info({ pod: `${orphan.metadata.namespace}/${orphan.metadata.name}` }, 'deleted pod of a removed deployment');
    }
    podObjs = podObjs.filter((p) => !orphans([p], deployments).length);

    for (const d of deployments) {
      const plan = planDeployment(d, podObjs);
      for (const p of plan.remove) {
        await removeFile(join(this.paths.pods, `${p.metadata.namespace}.${p.metadata.name}.yaml`));
        this.log.info({ pod: `${p.metadata.namespace}/${p.metadata.name}`, deployment: d.metadata.name }, 'deleted pod');
      }
      const taken = new Set(podObjs.map((p) => p.metadata.name));
      for (let i = 0; i < plan.create; i++) {
        let name = `${d.metadata.name}-${randomSuffix()}`;
        while (taken.has(name)) name = `${d.metadata.name}-${randomSuffix()}`;
        taken.add(name);
        const pod = newPodFor(d, name, randomUUID(), new Date());
        const spec = pod.spec as unknown as PodSpec;
        spec.nodeName ??= await this.nextNode();
        await writeObject(this.paths.pods, `${pod.metadata.namespace}.${name}.yaml`, pod);
        podObjs.push(pod);
        this.log.info({ pod: `${pod.metadata.namespace}/${name}`, node: spec.nodeName }, 'created pod');
      }
    }

    await writePodTargets(this.paths);

    // Bind Pods applied directly without spec.nodeName.
    for (const s of manifests) {
      const o: KubeObject = s.object;
      if (o.kind !== 'Pod') continue;
      const spec = o.spec as unknown as PodSpec;
      if (spec.nodeName !== undefined) continue;
      spec.nodeName = await this.nextNode();
      await writeObject(this.paths.manifests, manifestFileName(o), o);
      this.log.info({ pod: `${o.metadata.namespace}/${o.metadata.name}`, node: spec.nodeName }, 'bound pod');
    }
  }
}
