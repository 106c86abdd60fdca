import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';

/**
 * `weft hbone-demo` (also `npm run demo:hbone`): a client and a server on loopback with identities minted
 * just now by a fresh root CA, a TCP echo piped through one HBONE tunnel, both peers' SPIFFE IDs printed
 * as each side verified them, and a round-trip line per message. Needs no root and no cluster.
 */
interface Args {
  rounds: number;
  'trust-domain': string;
}

export const hboneDemoModule: CommandModule<object, Args> = {
  command: 'hbone-demo',
  describe: 'Run an HBONE (HTTP/2 CONNECT over mutual TLS) client and server on loopback and echo through a tunnel',
  builder: (y: Argv) =>
    y
      .option('rounds', { type: 'number', default: 3, describe: 'Echo round trips to make through the tunnel' })
      .option('trust-domain', { type: 'string', default: 'cluster.local', describe: 'Trust domain of the demo CA' }),
  handler: async (args) => {
    await runHboneDemo(args.rounds, args['trust-domain']);
  },
};

async function runHboneDemo(rounds: number, trustDomain: string): Promise<void> {
  // The PKI and HBONE libraries (x509, http2, tls) load only when the demo runs, not on every `weft` start.
  const [{ CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId }, { createHboneServer, HbonePool }, { silentLogger }] = await Promise.all([
    import('../../lib/identity/index.js'),
    import('../../lib/hbone/index.js'),
    import('../../lib/telemetry/log.js'),
  ]);
  const ca = await CertificateAuthority.createRoot({ trustDomain, commonName: 'weft hbone-demo root' });
  const certs = new CertificateManager({ certifier: new LocalCertifier(ca), logger: silentLogger });
  const clientId = SpiffeId.of(trustDomain, 'demo', 'client');
  const serverId = SpiffeId.of(trustDomain, 'demo', 'echo');
  const [clientCert, serverCert] = await Promise.all([certs.get(clientId), certs.get(serverId)]);
  console.log(`ca:     fresh root for trust domain ${trustDomain}`);

  const echo: Server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as AddressInfo).port;

  const hbone = createHboneServer({
    certificate: serverCert,
    trustRoots: ca.rootsPem,
    authorize: (peer, target) => {
      console.log(`server: verified client identity ${String(peer)}, CONNECT ${target.authority}`);
      return { allow: true };
    },
    connectUpstream: (target) =>
      new Promise<Duplex>((resolve, reject) => {
        const s = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true }, () => resolve(s));
        s.once('error', reject);
      }),
  });
  const { port } = await hbone.listen(0, '127.0.0.1');
  console.log(`server: ${serverId.toString()} listening on 127.0.0.1:${port} (HBONE, mTLS 1.3, h2)`);

  const pool = new HbonePool();
  try {
    const t0 = performance.now();
    const tunnel = await pool.connect({
      source: clientId,
      destination: serverId,
      nextHop: { host: '127.0.0.1', port },
      authority: `127.0.0.1:${echoPort}`,
      forwardedFor: '127.0.0.1',
      certificate: clientCert,
      trustRoots: ca.rootsPem,
    });
    console.log(`client: ${clientId.toString()} verified server identity ${serverId.toString()}; tunnel open in ${(performance.now() - t0).toFixed(1)} ms`);
    for (let i = 1; i <= rounds; i++) {
      const msg = `hello ${i} through hbone`;
      const start = performance.now();
      const reply = await roundTrip(tunnel, msg);
      if (reply !== msg) throw new Error(`echo mismatch: sent ${JSON.stringify(msg)}, got ${JSON.stringify(reply)}`);
      console.log(`round trip ${i}: ${Buffer.byteLength(msg)} bytes echoed in ${(performance.now() - start).toFixed(2)} ms`);
    }
    tunnel.end();
    await new Promise<void>((r) => {
      tunnel.resume();
      tunnel.once('close', () => r());
    });
    console.log('ok: tunnel closed cleanly');
  } finally {
    pool.close();
    await hbone.close({ graceMs: 500 });
    echo.close();
    certs.close();
  }
}

function roundTrip(tunnel: Duplex, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const want = Buffer.byteLength(msg);
    const got: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer): void => {
      got.push(c);
      n += c.length;
      if (n >= want) {
        tunnel.off('data', onData);
        tunnel.off('error', reject);
        tunnel.pause();
        resolve(Buffer.concat(got).toString());
      }
    };
    tunnel.on('data', onData);
    tunnel.resume(); // paused by the previous round trip; a new 'data' listener alone does not resume
    tunnel.once('error', reject);
    tunnel.write(msg);
  });
}
