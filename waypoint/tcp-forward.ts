import type { Duplex } from 'node:stream';
import { WeftError } from '../lib/errors/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import { pickP2C } from './balance/p2c-ewma.js';
import type { Connector } from './transport/connector.js';
import type { Backend } from './route/state-index.js';

// Opaque TCP through the waypoint: the bytes go as they are to one endpoint of the Service.

export function forwardTcp(stream: Duplex, backend: Backend | undefined, connector: Connector, log: Logger): void {
  const entry = backend && pickP2C(backend.endpoints, performance.now());
  if (!entry) {
    const err = new WeftError('ERR_WEFT_WAYPOINT_NO_ENDPOINT', { backend: backend?.label ?? 'unknown' });
    log.debug({ backend: backend?.label }, 'opaque TCP: no endpoint, resetting the tunnel');
    stream.destroy(err);
    return;
  }
  entry.stats.pending++;
  const t0 = performance.now();
  connector.connect(entry.endpoint).then(
    (up) => {
      entry.stats.observe(performance.now() - t0, performance.now());
      entry.stats.outlier.success();
      const close = (): void => {
        stream.destroy();
        up.destroy();
      };
      stream.once('close', close);
      up.once('close', close);
      stream.on('error', close);
      up.on('error', close);
      stream.pipe(up);
      up.pipe(stream);
      up.once('close', () => entry.stats.pending--);
    },
    (err: Error) => {
      entry.stats.pending--;
      entry.stats.outlier.failure(performance.now());
      log.debug({ endpoint: entry.key, err: err.message }, 'opaque TCP: connect to endpoint failed; resetting the tunnel');
      stream.destroy(new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: backend.label, reason: err.message }));
    },
  );
}
