import type { TapFilter } from '../../lib/tap/index.js';
import type { AdminEndpoint } from '../admin/admin-client.js';
import { openTap, type TapHandlers, type TapStream } from './tap-stream.js';

/**
 * The taps of several components at once (`weft tap`, `weft top`): each opened in parallel; one that
 * cannot be opened is reported through `notice` and the others go on, unless none opens (its error is
 * thrown). A stream that ends later is reported the same way.
 */
export interface TapSession {
  readonly components: readonly string[];
  /** Resolves when every stream has ended. */
  readonly ended: Promise<void>;
  close(): void;
}

export async function openTaps(endpoints: readonly AdminEndpoint[], filter: TapFilter, on: TapHandlers, notice: (line: string) => void): Promise<TapSession> {
  const results = await Promise.allSettled(endpoints.map((ep) => openTap(ep, filter, on)));
  const streams: TapStream[] = [];
  let firstError: unknown;
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') streams.push(r.value);
    else {
      firstError ??= r.reason;
      notice(`not tapping ${endpoints[i]?.label ?? '?'}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
    }
  }
  if (streams.length === 0) throw firstError;
  for (const s of streams) void s.ended.then((why) => why !== undefined && notice(`tap of ${s.component} ended: ${why}`));
  return {
    components: streams.map((s) => s.component),
    ended: Promise.all(streams.map((s) => s.ended)).then(() => undefined),
    close: () => {
      for (const s of streams) s.close();
    },
  };
}
