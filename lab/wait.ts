import { setTimeout as sleep } from 'node:timers/promises';
import { WeftError } from '../lib/errors/index.js';
import type { LabPaths } from './names.js';
import type { LabInfo } from './state.js';
import { labStatus, type LabStatus } from './status.js';

/**
 * Waits until every expected Deployment replica and Pod exists and is Ready. Deployments count their
 * `replicas` so that a wait right after `apply` does not pass before the controller made the pods.
 */
export async function waitPodsReady(info: LabInfo, paths: LabPaths, timeoutMs: number, minPods = 0): Promise<LabStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: LabStatus | undefined;
  while (Date.now() < deadline) {
    last = await labStatus(info, paths);
    if (last.pods.length >= minPods && last.pods.every((p) => p.ready)) return last;
    await sleep(500);
  }
  const notReady = (last?.pods ?? []).filter((p) => !p.ready).map((p) => `${p.namespace}/${p.name} (${p.phase}${p.reason ? `: ${p.reason}` : ''})`);
  throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `pods ready (not ready: ${notReady.join(', ') || `only ${last?.pods.length ?? 0} pods`})`, ms: timeoutMs });
}
