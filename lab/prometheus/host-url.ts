import { WeftError } from '../../lib/errors/index.js';
import type { LabPaths } from '../names.js';
import { isRunning } from '../processes.js';
import { readLabInfo } from '../state.js';

/**
 * The address on this host of a lab's Prometheus (the loopback forward `up` starts), as `weft lab
 * prometheus` prints it and `weft stat` / `weft edges` ask it. Refused with ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING
 * when the lab has none or its forward no longer runs, with ERR_WEFT_LAB_NOT_FOUND when there is no such lab.
 */
export async function labPrometheusHostUrl(paths: LabPaths, lab: string): Promise<string> {
  const info = await readLabInfo(paths, lab);
  if (!info.prometheus) throw new WeftError('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING', { lab, what: 'none recorded in lab.json' });
  if (!(await isRunning(paths.procs, 'prometheus-forward'))) throw new WeftError('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING', { lab, what: `no prometheus-forward on 127.0.0.1:${info.prometheus.hostPort}` });
  return `http://127.0.0.1:${info.prometheus.hostPort}`;
}
