// Pins the slow-watcher rule: when a watcher's stream buffer is full, the watch service stops queueing
// deltas for it (memory stays bounded however many changes happen) and, once the stream drains, sends a
// fresh snapshot that replaces what the watcher holds, so it ends with the complete current state.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { Compiler } from '../../control/discovery/compile.js';
import { WatchService } from '../../control/discovery/watch-service.js';
import type { WatchRequest, WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import { clusterDir, pod, until, type ClusterDir } from './compile-fixtures.js';

/** A server stream whose peer stops reading while `held` (as HTTP/2 flow control does to grpc-js). */
class HeldStream extends Writable {
  held = true;
  readonly written: WatchResponse[] = [];
  private readonly callbacks: (() => void)[] = [];
  readonly request: WatchRequest = { node: 'n1', waypoint: '', kinds: ['Workload'], initialVersions: {} };
  readonly metadata = new Metadata();
  cancelled = false;

  constructor() {
    super({ objectMode: true, highWaterMark: 4 });
  }

  override _write(msg: WatchResponse, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(msg);
    if (this.held) this.callbacks.push(cb);
    else cb();
  }

  release(): void {
    this.held = false;
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

let cluster: ClusterDir | undefined;
let service: WatchService | undefined;
afterEach(async () => {
  service?.close();
  await cluster?.close();
});

describe('slow watcher', () => {
  it('is skipped while its buffer is full and gets a replacing snapshot once it drains', async () => {
    cluster = await clusterDir([pod('p0', { uid: 'u0' })]);
    service = new WatchService({ source: cluster.source, compiler: new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' }), debounceMs: 5 });
    service.start();
    const call = new HeldStream();
    service.implementation().watch(call as unknown as ServerWritableStream<WatchRequest, WatchResponse>);
    await until(() => call.written.length === 1, 'snapshot');
    for (let i = 1; i <= 30; i++) {
      const seq = service.version;
      await cluster.write(pod(`p${i}`, { uid: `u${i}`, ip: `10.244.1.${i}` }));
      await until(() => service!.version !== seq, `change ${i} flushed`, 10_000);
    }
    // 30 flushes happened; the held stream got at most its buffer's worth plus one flush, not 30.
    const queued = call.written.length + call.writableLength;
    expect(queued).toBeLessThanOrEqual(6);
    call.release();
    await until(() => call.written.some((m, i) => i > 0 && m.replace) && call.written.at(-1)!.snapshotDone, 'snapshot after drain');
    const after = call.written.slice(call.written.findLastIndex((m) => m.replace));
    expect(after[0]).toMatchObject({ kind: 'Workload', replace: true });
    const names = after.flatMap((m) => m.upserts.map((u) => u.workload!.name));
    expect(new Set(names).size).toBe(31);
    expect(after.at(-1)!.snapshotDone).toBe(true);
  });
});
