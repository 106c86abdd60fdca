// Bench HBONE server process (the destination node agent's role): mTLS HBONE on a port, tunnels piped to
// the backend. argv: <pkiDir>. Prints `READY {"port":p}`.
import 'reflect-metadata';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHboneServer } from '../../lib/hbone/index.js';
import { installMemoryProbe } from '../lib/memory-probe.js';
import { startAgentMemoryTrim } from '../lib/agent-memory-trim.js';
import { readCertificate, readRoots } from '../lib/pki-files.js';

const dir = process.argv[2];
const server = createHboneServer({
  certificate: readCertificate(dir, 'server'),
  trustRoots: readRoots(dir),
  connectUpstream: (target) =>
    new Promise<Duplex>((resolve, reject) => {
      const s = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    }),
});
const { port } = await server.listen(0, '127.0.0.1');
// Exit on SIGTERM so that --cpu-prof writes its profile.
installMemoryProbe();
startAgentMemoryTrim();
process.on('SIGTERM', () => process.exit(0));
console.log(`READY ${JSON.stringify({ port })}`);
