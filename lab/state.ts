import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeftError } from '../lib/errors/index.js';
import { writeAtomic } from './atomic-file.js';
import type { LabPaths } from './names.js';
import type { LabKubeInfo } from './kube/lab-control-plane.js';
import type { LabPrometheusInfo } from './prometheus/lab-prometheus.js';
import type { NodeInfo } from './topology.js';

/** `<state>/lab.json`: what `up` decided, read by every other command and by the lab's processes. */
export interface LabInfo {
  readonly name: string;
  readonly nodes: readonly NodeInfo[];
  readonly createdAt: string;
  /** The `dist/` directory whose programs the lab runs. */
  readonly distDir: string;
  /** Whether weft-cni is chained (the node agent is part of the lab). */
  readonly agent: boolean;
  readonly control: boolean;
  /** The Kubernetes API server of the lab (absent in a lab made before it had one). */
  readonly kube?: LabKubeInfo;
  /** The lab's Prometheus (absent without the mesh, or in a lab made before it had one). */
  readonly prometheus?: LabPrometheusInfo;
}

/** dist/ of this build (this file is dist/lab/state.js when run; lab/state.ts under vitest). */
export function defaultDistDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const parent = dirname(here);
  return parent.endsWith('/dist') ? parent : join(parent, 'dist');
}

export async function readLabInfo(paths: LabPaths, name: string): Promise<LabInfo> {
  try {
    return JSON.parse(await readFile(paths.labFile, 'utf8')) as LabInfo;
  } catch {
    throw new WeftError('ERR_WEFT_LAB_NOT_FOUND', { name, dir: paths.root });
  }
}

export async function tryReadLabInfo(paths: LabPaths): Promise<LabInfo | undefined> {
  try {
    return JSON.parse(await readFile(paths.labFile, 'utf8')) as LabInfo;
  } catch {
    return undefined;
  }
}

export async function writeLabInfo(paths: LabPaths, info: LabInfo): Promise<void> {
  await writeAtomic(paths.labFile, JSON.stringify(info, null, 2) + '\n');
}
