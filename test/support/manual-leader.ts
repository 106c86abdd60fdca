import { EventEmitter } from 'node:events';
import type { LeaderElection } from '../../control/leader.js';

/**
 * A replica that follows until the test calls lead(): for checking that leader-gated controllers write
 * nothing while following. `asked` counts how often a pass asked whether it leads (each pass asks first),
 * the condition to wait for instead of sleeping through resync periods.
 */
export class ManualLeader extends EventEmitter implements LeaderElection {
  private leading = false;
  asked = 0;
  constructor(readonly identity = 'manual') {
    super();
  }
  get isLeader(): boolean {
    this.asked++;
    return this.leading;
  }
  start(): void {}
  async stop(): Promise<void> {}
  lead(): void {
    this.leading = true;
    this.emit('leader');
  }
}
