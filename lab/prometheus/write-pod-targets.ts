import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../cluster-store.js';
import type { PodSpec } from '../manifests.js';
import type { LabPaths } from '../names.js';
import { readLabPods } from '../pod-records.js';
import { podScrapeTargets } from './pod-targets.js';
import { labPrometheusPaths } from './lab-prometheus.js';
import { POD_TARGETS_FILE } from './scrape-config.js';

/**
 * Writes the lab's annotated, running pods as Prometheus file-based discovery targets (the lab controller
 * calls this on every sync). Prometheus watches the file; it is replaced atomically and only when its
 * content changes. A lab without Prometheus (no targets directory) is left alone.
 */
export async function writePodTargets(paths: LabPaths): Promise<void> {
  const { targetsDir } = labPrometheusPaths(paths);
  if (!existsSync(targetsDir)) return;
  const pods = (await readLabPods(paths)).map(({ obj, status }) => ({
    obj,
    ip: typeof status?.podIP === 'string' ? status.podIP : undefined,
    node: (obj.spec as PodSpec | undefined)?.nodeName,
  }));
  const file = join(targetsDir, POD_TARGETS_FILE);
  const text = JSON.stringify(podScrapeTargets(pods), null, 2) + '\n';
  if ((await readFile(file, 'utf8').catch(() => '')) === text) return;
  await writeAtomic(file, text);
}
