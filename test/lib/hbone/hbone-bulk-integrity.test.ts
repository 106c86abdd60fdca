// Pins that a tunnel loses, duplicates and reorders nothing under flow control: 64 MiB of random bytes
// each way at the same time through client pool → HBONE server → TCP backend arrive with exact byte counts
// and equal sha256, and the server's pipe accounting reports the same counts.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelResult } from '../../../lib/hbone/index.js';
import { mintPki, newPool, request, startHbone, type Pki } from './hbone-fixture.js';

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** Writes TOTAL random bytes (respecting backpressure) then ends; resolves to their sha256. */
async function sendRandom(s: Duplex): Promise<string> {
  const hash = createHash('sha256');
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    const chunk = randomBytes(CHUNK);
    hash.update(chunk);
    if (!s.write(chunk)) await once(s, 'drain');
  }
  s.end();
  return hash.digest('hex');
}

/** Reads to the end; resolves to byte count and sha256. */
function receive(s: Duplex): Promise<{ bytes: number; sha: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    s.once('end', () => resolve({ bytes, sha: hash.digest('hex') }));
    s.once('error', reject);
  });
}

describe('hbone bulk transfer integrity', () => {
  let pki: Pki;
  let backend: Server;
  let backendPort: number;
  let backendSide: Promise<{ sentSha: string; got: { bytes: number; sha: string } }>;

  beforeAll(async () => {
    pki = await mintPki();
    backendSide = new Promise((resolve, reject) => {
      backend = createServer({ allowHalfOpen: true }, (s) => {
        s.setNoDelay(true);
        Promise.all([sendRandom(s), receive(s)]).then(([sentSha, got]) => resolve({ sentSha, got }), reject);
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendPort = (backend.address() as AddressInfo).port;
  });
  afterAll(() => {
    backend.close();
  });

  it('moves 64 MiB each way at once with exact counts and sha256', { timeout: 120_000 }, async () => {
    let accounted: TunnelResult | undefined;
    const closed = new Promise<void>((resolve) => {
      void startHbone(pki, {
        onTunnelClosed: (_info, result) => {
          accounted = result;
          resolve();
        },
      }).then(async ({ hbone, port }) => {
        const pool = newPool();
        try {
          const tunnel = await pool.connect(request(pki, port, backendPort));
          const [sentSha, got] = await Promise.all([sendRandom(tunnel), receive(tunnel)]);
          const far = await backendSide;
          expect(got.bytes).toBe(TOTAL);
          expect(far.got.bytes).toBe(TOTAL);
          expect(far.got.sha).toBe(sentSha);
          expect(got.sha).toBe(far.sentSha);
        } finally {
          pool.close();
          await hbone.close({ graceMs: 2000 });
        }
      });
    });
    await closed;
    expect(accounted).toMatchObject({ aToB: TOTAL, bToA: TOTAL });
    expect(accounted?.error).toBeUndefined();
  });
});
