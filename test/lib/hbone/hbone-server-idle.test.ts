// Pins the HBONE server's bounds on sessions a peer holds without using them. The failure: an
// authenticated peer could open a session on 15008 and keep it forever with no stream (and one that
// finished TLS but never sent the HTTP/2 preface was never dropped). Now: a session with no open stream
// for the idle time gets a GOAWAY and is closed, counted in weft_hbone_server_session_closes_total;
// a session with an open stream is never cut and its idle time restarts when the stream ends; a peer that
// ignores the GOAWAY and stops reading still loses its socket; a session without preface is dropped after
// the handshake timeout; a TCP connection that never finishes TLS is dropped too. Fake timers drive the
// server's timers (installed before each session exists); real TLS on loopback.
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { DRAIN_MS } from '../../../lib/hbone/session-idle.js';
import { eventually } from '../../support/eventually.js';
import { mintPki, startEcho, startHbone, type Pki } from './hbone-fixture.js';
import { eventuallyOnFakeTime } from '../../support/eventually.js';

const IDLE_MS = 60_000;
const HANDSHAKE_MS = 10_000;

/** Lets real I/O run while fake timers stand still. */
const until = (cond: () => boolean): Promise<void> => eventuallyOnFakeTime(cond);

/** A few event-loop turns, for asserting that something did NOT happen. */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function tlsTo(pki: Pki, port: number): TLSSocket {
  return tlsConnect({
    host: '127.0.0.1',
    port,
    cert: pki.client.certChainPem.join('\n'),
    key: pki.client.keyPem,
    ca: pki.ca.rootsPem,
    ALPNProtocols: ['h2'],
    servername: '',
    checkServerIdentity: () => undefined,
  });
}

interface Client {
  readonly session: ClientHttp2Session;
  readonly goaways: number[];
  closed: boolean;
}

/** A plain node:http2 client (no pool, so no client-side idle close) whose preface the server has acknowledged. */
async function h2Client(pki: Pki, port: number): Promise<Client> {
  const tls = tlsTo(pki, port);
  const session = h2connect(`https://127.0.0.1:${port}`, { createConnection: () => tls });
  const c: Client = { session, goaways: [], closed: false };
  session.on('goaway', (code: number) => c.goaways.push(code));
  session.on('close', () => (c.closed = true));
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('localSettings', () => resolve());
    session.once('error', reject);
  });
  return c;
}

describe('hbone server closes idle sessions', () => {
  let pki: Pki;
  let hbone: HboneServer;
  let port: number;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const registry = new Registry();

  const closes = async (reason: string): Promise<number> => {
    const m = registry.getSingleMetric('weft_hbone_server_session_closes_total');
    if (!m) return 0;
    return (await m.get()).values.filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
  };

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    ({ hbone, port } = await startHbone(pki, { sessionIdleMs: IDLE_MS, handshakeTimeoutMs: HANDSHAKE_MS, registry }));
  });
  afterAll(async () => {
    vi.useRealTimers();
    await hbone.close({ graceMs: 100 });
    echo.server.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const fake = (): void => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  };

  it('sends GOAWAY and closes a session that opened no stream, after the idle time and not before', async () => {
    fake();
    const before = await closes('idle');
    const base = hbone.stats().sessions;
    const c = await h2Client(pki, port);
    await until(() => hbone.stats().sessions === base + 1);

    vi.advanceTimersByTime(IDLE_MS - 1_000);
    await turns();
    expect(c.goaways).toEqual([]);
    expect(c.closed).toBe(false);
    expect(hbone.stats().sessions).toBe(base + 1);

    vi.advanceTimersByTime(1_500);
    await until(() => c.goaways.length > 0);
    expect(c.goaways[0]).toBe(0); // NO_ERROR: a graceful close, not a failure
    vi.advanceTimersByTime(DRAIN_MS);
    await until(() => c.closed && hbone.stats().sessions === base);
    expect(await closes('idle')).toBe(before + 1);
  });

  it('never cuts a session with an open stream, and restarts the idle time when the stream ends', async () => {
    fake();
    const before = await closes('idle');
    const base = hbone.stats().sessions;
    const c = await h2Client(pki, port);
    const stream = c.session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echo.port}` });
    stream.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
    expect(status).toBe(200);

    // Two idle times pass while the tunnel is open (and quiet): nothing happens to it.
    for (let t = 0; t < 2 * IDLE_MS; t += 10_000) {
      vi.advanceTimersByTime(10_000);
      await turns(5);
    }
    await turns();
    expect(c.goaways).toEqual([]);
    const echoed = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
    stream.write('still here');
    expect(await echoed).toBe('still here');

    stream.end();
    stream.resume();
    await until(() => stream.closed && hbone.stats().tunnels === 0);
    // The idle time counts from the stream's end, not from the session's start.
    vi.advanceTimersByTime(IDLE_MS - 1_000);
    await turns();
    expect(c.goaways).toEqual([]);
    expect(hbone.stats().sessions).toBe(base + 1);

    vi.advanceTimersByTime(1_500);
    await until(() => c.goaways.length > 0);
    vi.advanceTimersByTime(DRAIN_MS);
    await until(() => c.closed && hbone.stats().sessions === base);
    expect(await closes('idle')).toBe(before + 1);
  });

  it('destroys the socket of a peer that ignores the GOAWAY and stops reading', async () => {
    fake();
    const before = await closes('idle');
    const base = hbone.stats().sessions;
    const tls = tlsTo(pki, port);
    let closed = false;
    tls.on('error', () => undefined);
    tls.on('close', () => (closed = true));
    await new Promise<void>((resolve) => tls.once('secureConnect', () => resolve()));
    // The client preface and an empty SETTINGS frame; then read only until the server acknowledges them.
    tls.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    let got = Buffer.alloc(0);
    let acked = false;
    tls.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      for (let i = 0; i + 9 <= got.length; i += 9 + got.readUIntBE(i, 3)) if (got[i + 3] === 4 && (got[i + 4] & 1) === 1) acked = true;
      if (acked) tls.pause();
    });
    await until(() => acked);
    expect(hbone.stats().sessions).toBe(base + 1);

    vi.advanceTimersByTime(IDLE_MS + 500); // the GOAWAY notice (the peer does not read it)
    await turns();
    vi.advanceTimersByTime(DRAIN_MS); // graceful close: the peer never answers it
    await turns();
    vi.advanceTimersByTime(DRAIN_MS); // then the socket goes
    await until(() => hbone.stats().sessions === base);
    expect(await closes('idle')).toBe(before + 1);
    tls.destroy();
    await until(() => closed);
  });

  it('drops a session whose HTTP/2 preface never comes after the TLS handshake', async () => {
    fake();
    const before = await closes('no_preface');
    const base = hbone.stats().sessions;
    const tls = tlsTo(pki, port);
    let closed = false;
    tls.on('error', () => undefined);
    tls.on('close', () => (closed = true));
    tls.resume();
    await new Promise<void>((resolve) => tls.once('secureConnect', () => resolve()));
    await until(() => hbone.stats().sessions === base + 1);

    vi.advanceTimersByTime(HANDSHAKE_MS - 1_000);
    await turns();
    expect(hbone.stats().sessions).toBe(base + 1);
    vi.advanceTimersByTime(2_000);
    await until(() => closed && hbone.stats().sessions === base);
    expect(await closes('no_preface')).toBe(before + 1);
  });

  it('drops a TCP connection that never finishes the TLS handshake', async () => {
    // Node's own tls.Server timer (not a global one): a short real timeout on a server of its own.
    const short = await startHbone(pki, { handshakeTimeoutMs: 300 });
    try {
      const s = tcpConnect(short.port, '127.0.0.1');
      let closed = false;
      s.on('error', () => undefined);
      s.on('close', () => (closed = true));
      s.resume();
      await eventually(() => closed, 10_000, 'the silent TCP connection closed by the server');
      expect(short.hbone.stats().sessions).toBe(0);
    } finally {
      await short.hbone.close({ graceMs: 100 });
    }
  });
});
