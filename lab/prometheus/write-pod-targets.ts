import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../atomic-file.js';
import type { LabPaths } from '../names.js';
import { podScrapeTargets, type ScrapablePod } from './pod-targets.js';
import { labPrometheusPaths } from './lab-prometheus.js';

/**
 * A node's file of Prometheus file-based discovery targets: the annotated pods its kubelet runs. The
 * kubelet calls this on every sync; the file is replaced atomically and only when its content changed
 * (`last`: the text written before). A lab without Prometheus (no targets directory) is left alone.
 * Returns the text now in the file.
 */
export async function writeNodePodTargets(paths: LabPaths, node: string, pods: readonly ScrapablePod[], last: string | undefined): Promise<string | undefined> {
  const { targetsDir } = labPrometheusPaths(paths);
  if (!existsSync(targetsDir)) return undefined;
  const text = JSON.stringify(podScrapeTargets(pods), null, 2) + '\n';
  if (text !== last) await writeAtomic(join(targetsDir, `${node}.json`), text);
  return text;
}
