import { setTimeout as sleep } from 'node:timers/promises';
import { WeftError } from '../lib/errors/index.js';
import type { LabInfo } from './state.js';
import { labStatus, type LabStatus } from './status.js';

/**
 * Waits until at least `minPods` pods exist in the lab's API server and every one is Ready (`minPods`: a
 * wait right after `apply` must not pass before the controllers made the Deployments' pods).
 */
export async function waitPodsReady(info: LabInfo, timeoutMs: number, minPods = 0): Promise<LabStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: LabStatus | undefined;
  while (Date.now() < deadline) {
    last = await labStatus(info);
    if (last.pods.length >= minPods && last.pods.every((p) => p.ready)) return last;
    await sleep(250);
  }
  const notReady = (last?.pods ?? []).filter((p) => !p.ready).map((p) => `${p.namespace}/${p.name} (${p.phase}${p.reason ? `: ${p.reason}` : ''})`);
  throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `pods ready (not ready: ${notReady.join(', ') || `only ${last?.pods.length ?? 0} pods`})`, ms: timeoutMs });
}
