// Shared setup for the HBONE tests: a CA with a client and a server identity, a TCP echo backend (half-
// open aware), and an HBONE server in front of it. Real TLS on loopback, nothing mocked.
import { once } from 'node:events';
import { createServer, connect, type Server, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { Duplex } from 'node:stream';
import { mintCa, mintWorkloadCert } from '../../support/pki.js';
import type { CertificateAuthority, WorkloadCertificate } from '../../../lib/identity/index.js';
import { createHboneServer, HbonePool, type HboneServer, type HboneServerOptions, type HbonePoolOptions, type HboneConnectRequest } from '../../../lib/hbone/index.js';

export interface Pki {
  ca: CertificateAuthority;
  server: WorkloadCertificate;
  client: WorkloadCertificate;
}

export async function mintPki(): Promise<Pki> {
  const ca = await mintCa();
  const [server, client] = await Promise.all([mintWorkloadCert(ca, 'dst', 'server'), mintWorkloadCert(ca, 'src', 'client')]);
  return { ca, server, client };
}

/** TCP echo that keeps its write side open after the client's FIN until it echoed everything. */
export async function startEcho(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** Connects upstream to 127.0.0.1:<target port> (the tests' "destination pod"), half-open aware. */
export function connectLoopback(target: { port: number }): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: target.port, allowHalfOpen: true, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export async function startHbone(pki: Pki, options: Partial<HboneServerOptions> = {}): Promise<{ hbone: HboneServer; port: number }> {
  const hbone = createHboneServer({
    certificate: pki.server,
    trustRoots: pki.ca.rootsPem,
    connectUpstream: connectLoopback,
    ...options,
  });
  const addr = await hbone.listen(0, '127.0.0.1');
  return { hbone, port: addr.port };
}

export function newPool(options: HbonePoolOptions = {}): HbonePool {
  return new HbonePool({ connectTimeoutMs: 15_000, ...options });
}

/** A connect request from the client identity to the server identity at 127.0.0.1:<hbonePort>. */
export function request(pki: Pki, hbonePort: number, backendPort: number, extra: Partial<HboneConnectRequest> = {}): HboneConnectRequest {
  return {
    source: pki.client.identity,
    destination: pki.server.identity,
    nextHop: { host: '127.0.0.1', port: hbonePort },
    authority: `127.0.0.1:${backendPort}`,
    certificate: pki.client,
    trustRoots: pki.ca.rootsPem,
    ...extra,
  };
}

/** Two connected loopback TCP sockets, both allowing half-open: [client side, accepted side]. */
export async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const [s] = await accepted;
  server.close();
  return [client, s];
}

/** Reads a stream to its end. */
export async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export type Echo = Awaited<ReturnType<typeof startEcho>>;

/** What hboneSuite() sets up: read its fields inside tests (they are filled by beforeAll). */
export interface HboneSuite {
  pki: Pki;
  echo: Echo;
  hbone: HboneServer;
  port: number;
}

/**
 * Registers, in the calling describe, one HBONE server on loopback in front of a TCP echo backend with a
 * fresh PKI (beforeAll), closed afterwards (afterAll). `options` is read when the server starts.
 */
export function hboneSuite(options: () => Partial<HboneServerOptions> = () => ({})): HboneSuite {
  const suite = {} as HboneSuite;
  beforeAll(async () => {
    suite.pki = await mintPki();
    suite.echo = await startEcho();
    Object.assign(suite, await startHbone(suite.pki, options()));
  });
  afterAll(async () => {
    await suite.hbone?.close({ graceMs: 100 });
    suite.echo?.server.close();
  });
  return suite;
}
