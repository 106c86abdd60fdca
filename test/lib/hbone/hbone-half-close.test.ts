// Pins half-close in both directions: a client that ends its write side (TCP FIN → END_STREAM) still
// receives the whole answer, and a backend that speaks first and ends (FIN → END_STREAM) still receives
// what the client sends afterwards. Request/response protocols that close their write side depend on it.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { mintPki, newPool, readAll, request, startHbone, type Pki } from './hbone-fixture.js';

describe('hbone half-close', () => {
  let pki: Pki;
  let hbone: HboneServer;
  let port: number;
  let backend: Server;
  let backendPort: number;
  let nextConnection: (s: Socket) => void = () => undefined;

  beforeAll(async () => {
    pki = await mintPki();
    ({ hbone, port } = await startHbone(pki));
    backend = createServer({ allowHalfOpen: true }, (s) => nextConnection(s));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendPort = (backend.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await hbone.close({ graceMs: 100 });
    backend.close();
  });

  it('client FIN reaches the backend, which then answers and ends', async () => {
    // The backend answers only after it saw the end of the request, like an HTTP/1.0 server.
    nextConnection = (s) => {
      const got: Buffer[] = [];
      s.on('data', (c: Buffer) => got.push(c));
      s.on('end', () => {
        s.end(`got ${Buffer.concat(got).length} bytes: ${Buffer.concat(got).toString()}`);
      });
    };
    const pool = newPool();
    try {
      const tunnel = await pool.connect(request(pki, port, backendPort));
      tunnel.end('request body');
      expect((await readAll(tunnel)).toString()).toBe('got 12 bytes: request body');
    } finally {
      pool.close({ force: true });
    }
  });

  it('backend FIN reaches the client, which can still send until it ends', async () => {
    let backendGot: Promise<string> = Promise.resolve('');
    nextConnection = (s) => {
      s.end('banner then FIN'); // server speaks first and closes its write side at once
      backendGot = readAll(s).then((b) => b.toString());
    };
    const pool = newPool();
    try {
      const tunnel = await pool.connect(request(pki, port, backendPort));
      const chunks: Buffer[] = [];
      tunnel.on('data', (c: Buffer) => chunks.push(c));
      await once(tunnel, 'end');
      expect(Buffer.concat(chunks).toString()).toBe('banner then FIN');
      // Our read side is done; the write side must still carry data to the backend.
      tunnel.write('late ');
      tunnel.end('data');
      await once(tunnel, 'close');
      expect(await backendGot).toBe('late data');
    } finally {
      pool.close({ force: true });
    }
  });
});
