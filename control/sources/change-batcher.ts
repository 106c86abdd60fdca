import type { SourceChange } from './source.js';

/**
 * Collects the changes of one tick and hands them over as one batch (the `change` event of a
 * ClusterSource). Before `enable()` (the initial sync) changes are dropped: the consumer reads the initial
 * state with `list()`. Several changes to the same object within a tick collapse into the last one.
 */
export class ChangeBatcher {
  private pending = new Map<string, SourceChange>();
  private scheduled = false;
  private enabled = false;
  private closed = false;

  constructor(private readonly flushTo: (changes: readonly SourceChange[]) => void) {}

  enable(): void {
    this.enabled = true;
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  push(change: SourceChange): void {
    if (!this.enabled || this.closed) return;
    const m = change.object.metadata;
    const key = `${change.object.kind}/${m.namespace ?? ''}/${m.name}`;
    this.pending.delete(key); // keep batch order = order of the last change
    this.pending.set(key, change);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushTo(batch);
  }
}
