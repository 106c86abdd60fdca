import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPaths } from './names.js';
import { podNetns } from './names.js';
import { netnsExists } from './netns.js';
import { runtimeRecordFile } from './pod-sandbox.js';
import type { RuntimeRecord } from './pod-state.js';

/** Where `weft lab exec` runs a command: a network namespace, and the name of the pod's /etc (pod-etc.ts). */
export interface PodExecTarget {
  readonly netns: string;
  readonly etc: string;
}

/**
 * The pod's own namespace; for a hostNetwork pod (a node agent of the chart, say), which has none, its
 * node's, read from the runtime record of the kubelet that runs it. Undefined when no kubelet runs the pod.
 */
export async function podExecTarget(paths: LabPaths, lab: string, namespace: string, pod: string): Promise<PodExecTarget | undefined> {
  const own = podNetns(lab, namespace, pod);
  if (await netnsExists(own)) return { netns: own, etc: own };
  for (const node of await readdir(paths.runtime).catch(() => [] as string[])) {
    const text = await readFile(runtimeRecordFile(join(paths.runtime, node), namespace, pod), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const rec = JSON.parse(text) as RuntimeRecord;
    if (rec.hostNetns !== undefined && (await netnsExists(rec.hostNetns))) return { netns: rec.hostNetns, etc: rec.netns };
  }
  return undefined;
}
