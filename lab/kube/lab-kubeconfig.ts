import { readFile } from 'node:fs/promises';
import { WeftError } from '../../lib/errors/index.js';
import type { LabInfo } from '../state.js';
import { isRunning } from '../processes.js';
import { labPaths } from '../names.js';

/**
 * `weft lab kubeconfig`: the host's admin kubeconfig of a running lab (written by `up`, certificates
 * inline, server = the loopback forward). Refused with a clear error when the lab has no API server or
 * its forward is not running (then nothing on the host could use the file).
 */
export async function labKubeconfig(info: LabInfo, stateRoot?: string): Promise<{ path: string; content: string }> {
  const path = info.kube?.kubeconfig;
  if (path === undefined) throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path: 'kube in lab.json' });
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch {
    throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path });
  }
  if (!(await isRunning(labPaths(info.name, stateRoot).procs, 'kube-forward'))) throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path: `a running kube-forward (127.0.0.1:${info.kube?.hostPort})` });
  return { path, content };
}
