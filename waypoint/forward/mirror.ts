import type { Clock } from '../../lib/clock.js';
import { pickP2C } from '../balance/p2c-ewma.js';
import type { ReplayableBody } from '../retry/replay-body.js';
import type { MirrorFilter } from '../route/apply-filters.js';
import type { StateIndex } from '../route/state-index.js';
import type { UpstreamClients, UpstreamProtocol } from '../upstream/clients.js';
import type { Headers } from '../upstream/exchange.js';

// RequestMirror filters: a copy of the request to another backend, fire and forget. Mirrors never delay
// or change the real response; a body is mirrored only once it has ended within the replay limit.

const MIRROR_TIMEOUT_MS = 10_000;

export interface MirroredRequest {
  readonly method: string;
  /** Path with query, after the filters. */
  readonly path: string;
  readonly authority: string;
  readonly headers: Headers;
  readonly protocol: UpstreamProtocol;
}

export class Mirrors {
  constructor(
    private readonly index: StateIndex,
    private readonly clients: UpstreamClients,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  send(mirrors: readonly MirrorFilter[], body: ReplayableBody | null, up: MirroredRequest): void {
    for (const m of mirrors) {
      const percent = m.requestMirror.percent ?? 100;
      if (percent < 100 && this.random() * 100 >= percent) continue;
      const ref = m.requestMirror.backendRef;
      if (!ref.service) continue;
      const backend = this.index.backend(ref.service.namespace, ref.service.name, ref.port);
      const entry = backend && pickP2C(backend.endpoints, this.clock.now(), this.random);
      if (!entry) continue;
      const headers = { ...up.headers, 'x-weft-mirror': '1' };
      const send = (b: Buffer | null): void => {
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), MIRROR_TIMEOUT_MS);
        this.clients.request(up.protocol, entry.key, entry.endpoint, { method: up.method, path: up.path, authority: up.authority, headers, body: b, signal: ctl.signal }, (err, r) => {
          if (r) r.body.resume().once('close', () => clearTimeout(timer));
          else clearTimeout(timer);
        });
      };
      if (!body) send(null);
      else void body.whenEnded().then((b) => b && send(b));
    }
  }
}
