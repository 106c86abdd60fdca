import { tapLine } from '../tap/tap-line.js';
import { openTaps } from '../tap/tap-session.js';
import { tapEndpoints } from '../tap/tap-targets.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import type { TapLine, WorkloadKey } from './dashboard-api.js';

/**
 * A workload's live tap for its page: `weft tap -n <ns> --workload <name>` (the same endpoints, filter and
 * lines, cli/tap/), its events and its notes handed to `send`. The components filter on their side, so a
 * page that is open costs them only this workload's events; closing the page closes the streams.
 */
export async function tapWorkload(client: ClusterClient, meshNamespace: string, w: WorkloadKey, send: (line: TapLine) => void): Promise<() => void> {
  const note = (text: string): void => send({ kind: 'note', text });
  try {
    const session = await openTaps(
      await tapEndpoints(client, meshNamespace),
      { namespace: w.namespace, workload: w.name },
      {
        event: (e, component) => send({ kind: 'event', text: tapLine(e, component) }),
        dropped: (count, component) => note(`${component} dropped ${count} events: this page read too slowly`),
      },
      note,
    );
    note(`tapping ${session.components.join(', ')}`);
    return () => session.close();
  } catch (err) {
    note(`no live tap: ${err instanceof Error ? err.message : String(err)}`);
    return () => undefined;
  }
}
