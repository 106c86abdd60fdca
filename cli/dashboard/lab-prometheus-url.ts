import { WeftError } from '../../lib/errors/index.js';
import type { LabPaths } from '../../lab/names.js';
import { isRunning } from '../../lab/processes.js';
import { readLabInfo } from '../../lab/state.js';

// TEMPORARY until branch stat lands lab/prometheus/host-url.ts.
export async function labPrometheusHostUrl(paths: LabPaths, lab: string): Promise<string> {
  const info = await readLabInfo(paths, lab);
  if (!info.prometheus) throw new WeftError('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING', { lab, what: 'none recorded in lab.json' });
  if (!(await isRunning(paths.procs, 'prometheus-forward'))) throw new WeftError('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING', { lab, what: `no prometheus-forward on 127.0.0.1:${info.prometheus.hostPort}` });
  return `http://127.0.0.1:${info.prometheus.hostPort}`;
}
