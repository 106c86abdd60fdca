// Pins that every broken identity is refused with its own error, in both directions: a client refuses a
// server whose certificate is from another CA, names another workload, is expired, not yet valid or
// self-signed; a server refuses a client with no certificate or with such a certificate, tells the client
// why (GOAWAY with the reason), and keeps serving good clients.
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintCa, mintWorkloadCert, mintSelfSigned } from '../../support/pki.js';
import { SpiffeId, type WorkloadCertificate } from '../../../lib/identity/index.js';
import { isWeftError, type WeftError, type WeftErrorCode } from '../../../lib/errors/index.js';
import { createHboneServer, type HboneServer } from '../../../lib/hbone/index.js';
import { connectLoopback, mintPki, newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

const HOUR = 3_600_000;

async function refusal(p: Promise<unknown>): Promise<WeftError> {
  const err = await p.then(
    () => new Error('expected a refusal, got a tunnel'),
    (e: unknown) => e,
  );
  if (!isWeftError(err)) throw err instanceof Error ? err : new Error(String(err));
  return err;
}

describe('hbone TLS refusals', () => {
  let pki: Pki;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let otherCa: Awaited<ReturnType<typeof mintCa>>;

  beforeAll(async () => {
    pki = await mintPki();
    otherCa = await mintCa('cluster.local', 'other root');
    echo = await startEcho();
  });
  afterAll(() => {
    echo.server.close();
  });

  describe('the client refuses a bad server certificate', () => {
    const cases: [string, () => Promise<WorkloadCertificate>, WeftErrorCode][] = [
      ['from another CA', () => mintWorkloadCert(otherCa, 'dst', 'server'), 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA'],
      ['for another identity (wrong SAN)', () => mintWorkloadCert(pki.ca, 'dst', 'impostor'), 'ERR_WEFT_HBONE_TLS_SAN_MISMATCH'],
      ['expired', () => mintWorkloadCert(pki.ca, 'dst', 'server', { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }), 'ERR_WEFT_HBONE_TLS_EXPIRED'],
      ['not yet valid', () => mintWorkloadCert(pki.ca, 'dst', 'server', { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }), 'ERR_WEFT_HBONE_TLS_NOT_YET_VALID'],
      ['self-signed with the right SAN', () => mintSelfSigned(pki.server.identity), 'ERR_WEFT_HBONE_TLS_SELF_SIGNED'],
    ];
    for (const [name, mint, code] of cases) {
      it(`server certificate ${name} → ${code}`, async () => {
        const { hbone, port } = await startHbone(pki, { certificate: await mint() });
        const pool = newPool({ maxConnectAttempts: 1 });
        try {
          const err = await refusal(pool.connect(request(pki, port, echo.port)));
          expect(err.code).toBe(code);
          expect(err.flag).toBe('TLS');
          expect(pool.stats().sessions).toBe(0);
        } finally {
          pool.close({ force: true });
          await hbone.close({ graceMs: 100 });
        }
      });
    }
  });

  describe('the server refuses a bad client certificate and says why', () => {
    let hbone: HboneServer;
    let port: number;
    const refused: WeftError[] = [];

    beforeAll(async () => {
      ({ hbone, port } = await startHbone(pki));
      hbone.on('refused', (err: WeftError) => refused.push(err));
    });
    afterAll(async () => {
      await hbone.close({ graceMs: 100 });
    });

    const cases: [string, () => Promise<WorkloadCertificate>, WeftErrorCode][] = [
      ['from another CA', () => mintWorkloadCert(otherCa, 'src', 'client'), 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA'],
      ['expired', () => mintWorkloadCert(pki.ca, 'src', 'client', { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }), 'ERR_WEFT_HBONE_TLS_EXPIRED'],
      ['not yet valid', () => mintWorkloadCert(pki.ca, 'src', 'client', { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }), 'ERR_WEFT_HBONE_TLS_NOT_YET_VALID'],
      ['self-signed with the right SAN', () => mintSelfSigned(pki.client.identity), 'ERR_WEFT_HBONE_TLS_SELF_SIGNED'],
    ];
    for (const [name, mint, code] of cases) {
      it(`client certificate ${name} → server ${code}, client REJECTED_BY_PEER`, async () => {
        const cert = await mint();
        const pool = newPool({ maxConnectAttempts: 1 });
        try {
          const before = refused.length;
          const err = await refusal(pool.connect(request(pki, port, echo.port, { certificate: cert })));
          expect(err.code).toBe('ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER');
          expect(err.params.peerCode).toBe(code);
          expect(refused.slice(before).map((e) => e.code)).toEqual([code]);
        } finally {
          pool.close({ force: true });
        }
      });
    }

    it('no client certificate → server ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT, told in the GOAWAY', async () => {
      const before = refused.length;
      const session = h2connect(`https://127.0.0.1:${port}`, {
        createConnection: () =>
          tlsConnect({ host: '127.0.0.1', port, ca: pki.ca.rootsPem, ALPNProtocols: ['h2'], servername: '', checkServerIdentity: () => undefined }),
      });
      const goaway = new Promise<{ code: number; data: string }>((resolve) => {
        session.on('goaway', (code: number, _last: number, data?: Buffer) => resolve({ code, data: String(data) }));
      });
      session.on('error', () => undefined);
      const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echo.port}` });
      stream.on('error', () => undefined);
      const g = await goaway;
      expect(g.code).toBe(12); // INADEQUATE_SECURITY
      expect(g.data).toMatch(/^ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT /);
      expect(refused.slice(before).map((e) => e.code)).toEqual(['ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT']);
      session.destroy();
    });

    it('keeps serving a good client after all of that', async () => {
      const pool = newPool();
      try {
        const tunnel = await pool.connect(request(pki, port, echo.port));
        tunnel.end('still here');
        expect((await readAll(tunnel)).toString()).toBe('still here');
      } finally {
        pool.close({ force: true });
      }
    });
  });

  it('a certificate for an identity other than the server expects is named in the error', async () => {
    const hbone = createHboneServer({ certificate: await mintWorkloadCert(pki.ca, 'dst', 'impostor'), trustRoots: pki.ca.rootsPem, connectUpstream: connectLoopback });
    const { port } = await hbone.listen(0, '127.0.0.1');
    const pool = newPool({ maxConnectAttempts: 1 });
    try {
      const err = await refusal(pool.connect(request(pki, port, echo.port)));
      expect(err.params.actual).toBe(SpiffeId.of('cluster.local', 'dst', 'impostor').toString());
      expect(err.params.expected).toBe(pki.server.identity.toString());
    } finally {
      pool.close({ force: true });
      await hbone.close({ graceMs: 100 });
    }
  });
});
