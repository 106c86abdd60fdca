// Pins that the agent's per-pod HBONE pool retries a CONNECT once on a fresh session when the session
// it was sent on dies before the answer (a peer agent killed with SIGKILL): nothing of the client's was
// sent yet, so the connection must not fail. Refusals the peer answers are not retried.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHboneServer, type HboneServer } from '../../lib/hbone/index.js';
import { isWeftError } from '../../lib/errors/index.js';
import { SpiffeId, type CertificateAuthority, type WorkloadCertificate } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { PlainSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { HbonePools } from '../../node-agent/proxy/hbone-pools.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';

describe('node-agent HBONE pool: a CONNECT whose session dies before the answer is retried once', () => {
  let ca: CertificateAuthority;
  let client: WorkloadCertificate;
  let serverCert: WorkloadCertificate;
  let hbone: HboneServer;
  const listener: Server = createServer();
  const app: Server = createServer((s: Socket) => s.on('data', (d: Buffer) => s.end(`app:${d.toString()}`)));
  const sockets = new Set<Socket>();
  let port = 0;
  let appPort = 0;
  /** What the server does with the next CONNECTs: kill the session, refuse, or allow. */
  const plan: ('kill' | 'refuse' | 'allow')[] = [];
  let asked = 0;

  beforeAll(async () => {
    ca = await mintCa();
    client = await mintWorkloadCert(ca, 'shop', 'sa-a');
    serverCert = await mintWorkloadCert(ca, 'shop', 'sa-b');
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appPort = (app.address() as AddressInfo).port;
    listener.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as AddressInfo).port;
    hbone = createHboneServer({
      certificate: serverCert,
      trustRoots: ca.rootsPem,
      authorize: () => {
        asked++;
        const next = plan.shift() ?? 'allow';
        if (next === 'kill') {
          // As a SIGKILL of the peer agent: its TCP connections close under the open stream.
          for (const s of sockets) s.destroy();
          return new Promise(() => undefined);
        }
        return next === 'refuse' ? { allow: false, status: 403, reason: 'DENY: test' } : { allow: true };
      },
      connectUpstream: () =>
        new Promise<Duplex>((resolve, reject) => {
          const s = new PlainSocketFactory().connect('127.0.0.1', appPort);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    });
    hbone.attach(listener);
  });
  afterAll(async () => {
    await hbone?.close({ graceMs: 0 });
    listener.close();
    app.close();
  });

  const request = {
    source: SpiffeId.parse('spiffe://cluster.local/ns/shop/sa/sa-a'),
    destination: SpiffeId.parse('spiffe://cluster.local/ns/shop/sa/sa-b'),
    nextHop: { host: '127.0.0.1', port: 0 },
    authority: '127.0.0.1:1',
  };

  it('retries once on a new session and the tunnel works', async () => {
    const pools = new HbonePools(silentLogger);
    try {
      const pool = pools.forPod('uid-a', new PlainSocketFactory());
      plan.push('kill');
      asked = 0;
      const stream = await pool.connect({ ...request, nextHop: { host: '127.0.0.1', port }, authority: `127.0.0.1:${appPort}`, certificate: client, trustRoots: ca.rootsPem });
      expect(asked).toBe(2);
      const reply = await new Promise<string>((resolve) => {
        let got = '';
        stream.on('data', (d: Buffer) => (got += d.toString()));
        stream.on('end', () => resolve(got));
        stream.end('hi');
      });
      expect(reply).toBe('app:hi');
    } finally {
      pools.close();
    }
  });

  it('does not retry an answer (a refusal) and gives up after one retry', async () => {
    const pools = new HbonePools(silentLogger);
    try {
      const pool = pools.forPod('uid-a', new PlainSocketFactory());
      plan.push('refuse');
      asked = 0;
      const refused = await pool.connect({ ...request, nextHop: { host: '127.0.0.1', port }, authority: `127.0.0.1:${appPort}`, certificate: client, trustRoots: ca.rootsPem }).catch((e: unknown) => e);
      expect(isWeftError(refused) && refused.code).toBe('ERR_WEFT_HBONE_DENIED');
      expect(asked).toBe(1);
      plan.push('kill', 'kill');
      asked = 0;
      const dead = await pool.connect({ ...request, nextHop: { host: '127.0.0.1', port }, authority: `127.0.0.1:${appPort}`, certificate: client, trustRoots: ca.rootsPem }).catch((e: unknown) => e);
      expect(isWeftError(dead) && ['ERR_WEFT_HBONE_SESSION_CLOSED', 'ERR_WEFT_HBONE_STREAM_RESET'].includes(dead.code)).toBe(true);
      expect(asked).toBe(2);
    } finally {
      pools.close();
    }
  });
});
