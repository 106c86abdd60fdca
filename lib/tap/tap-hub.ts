import type { Registry } from 'prom-client';
import { sharedCounter, sharedGauge } from '../telemetry/metrics.js';
import { matchesTap, type TapFilter } from './tap-filter.js';
import type { TapEvent } from './tap-event.js';

// The tap of one process (node agent or waypoint): who listens, and each event sent to the listeners whose
// filter it matches. The request path pays for it only while someone listens: it reads `listening` (one
// boolean) and builds an event only when that is true. A listener that reads slower than events come is
// sent nothing more until its socket buffer is under MAX_BUFFERED_BYTES again; what it misses is counted
// (weft_tap_dropped_total) and told to it as a `{"type":"dropped","count":n}` line, never buffered.

/** Listeners one process serves at once; the next is refused (ERR_WEFT_ADMIN_TAP_BUSY). */
export const MAX_TAP_LISTENERS = 8;
/** Bytes a listener's socket may hold unsent before its events are dropped (a few hundred events). */
export const MAX_BUFFERED_BYTES = 256 * 1024;

/** Where a listener's lines go: an HTTP response, in the admin server. */
export interface TapSink {
  write(line: string): unknown;
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
}

export interface TapListener {
  readonly filter: TapFilter;
  readonly sink: TapSink;
  /** Events dropped since the listener was last told. */
  dropped: number;
}

export interface TapHubOptions {
  readonly registry: Registry;
  readonly maxListeners?: number;
  readonly maxBufferedBytes?: number;
}

export class TapHub {
  /** True while at least one listener is attached: the one check the request path makes. */
  listening = false;
  private listeners: readonly TapListener[] = [];
  readonly maxListeners: number;
  private readonly maxBuffered: number;
  private readonly droppedTotal;
  private readonly listenersGauge;

  constructor(o: TapHubOptions) {
    this.maxListeners = o.maxListeners ?? MAX_TAP_LISTENERS;
    this.maxBuffered = o.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    this.droppedTotal = sharedCounter(o.registry, 'weft_tap_dropped_total', 'Tap events not sent to a listener that read too slowly (its socket buffer was full)', []);
    this.listenersGauge = sharedGauge(o.registry, 'weft_tap_listeners', 'Tap listeners (weft tap, weft top) attached to this process');
  }

  get size(): number {
    return this.listeners.length;
  }

  /** Adds a listener, or returns undefined when MAX_TAP_LISTENERS are attached already. */
  attach(filter: TapFilter, sink: TapSink): TapListener | undefined {
    if (this.listeners.length >= this.maxListeners) return undefined;
    const l: TapListener = { filter, sink, dropped: 0 };
    // Copy on write: publish() iterates the array it read even when a listener leaves meanwhile.
    this.listeners = [...this.listeners, l];
    this.listening = true;
    this.listenersGauge.inc();
    return l;
  }

  detach(l: TapListener): void {
    if (!this.listeners.includes(l)) return;
    this.listeners = this.listeners.filter((x) => x !== l);
    this.listenersGauge.dec();
    this.listening = this.listeners.length > 0;
  }

  /** Sends `e` to every listener it matches; serialised once, and only when one does. */
  publish(e: TapEvent): void {
    let line: string | undefined;
    for (const l of this.listeners) {
      if (!matchesTap(l.filter, e)) continue;
      if (l.sink.writableLength > this.maxBuffered) {
        l.dropped++;
        this.droppedTotal.inc();
        continue;
      }
      if (l.dropped > 0) {
        l.sink.write(`{"type":"dropped","count":${l.dropped}}\n`);
        l.dropped = 0;
      }
      line ??= `${JSON.stringify(e)}\n`;
      l.sink.write(line);
    }
  }
}
