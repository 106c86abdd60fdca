// Pins the proxy's byte pump (lib/hbone `pipeTunnel`, which the agent uses for every connection): a half-close travels to the other side while the reverse
// direction keeps flowing, and an aborted side resets the other instead of leaving it hanging.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { pipeTunnel } from '../../lib/hbone/index.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** client → [proxy: pipeTunnel(down, up)] → backend; returns the backend's accepted socket and the client. */
async function chain(onBackend: (s: Socket) => void): Promise<Socket> {
  const backend = createServer({ allowHalfOpen: true }, onBackend);
  const proxy = createServer({ allowHalfOpen: true }, (down) => {
    const up = connect({ port: (backend.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    void pipeTunnel(down, up);
  });
  servers.push(backend, proxy);
  await Promise.all([once(backend.listen(0, '127.0.0.1'), 'listening'), once(proxy.listen(0, '127.0.0.1'), 'listening')]);
  return connect({ port: (proxy.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
}

describe('node-agent pipe', () => {
  it('propagates half-close and keeps the reverse direction open', async () => {
    const client = await chain((s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => {
        // The request side ended; the response still flows, then ends.
        s.write(`got:${got}`);
        setTimeout(() => s.end(':bye'), 50);
      });
    });
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    client.end('hello');
    await once(client, 'end');
    expect(reply).toBe('got:hello:bye');
  });

  it('turns an aborted upstream into a reset downstream', async () => {
    const client = await chain((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    client.write('x');
    const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
  });
});
