// Bench HBONE client process (the source node agent's role): plain TCP listeners, one per backend port;
// each accepted connection gets a tunnel from the pool to the HBONE server, piped both ways.
// argv: <pkiDir> <hbonePort> <backendPort>... Prints `READY {"ports":[p...]}` (same order).
import 'reflect-metadata';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { HbonePool, pipeTunnel, type HboneConnectRequest } from '../../lib/hbone/index.js';
import { installMemoryProbe } from '../lib/memory-probe.js';
import { startAgentMemoryTrim } from '../lib/agent-memory-trim.js';
import { readCertificate, readRoots } from '../lib/pki-files.js';

const [dir, hbonePortText, ...backendPorts] = process.argv.slice(2);
const client = readCertificate(dir, 'client');
const server = readCertificate(dir, 'server');
const roots = readRoots(dir);
const pool = new HbonePool();

async function listenFor(backendPort: string): Promise<number> {
  // Built once per listener: only the authority differs per backend.
  const template: HboneConnectRequest = {
    source: client.identity,
    destination: server.identity,
    nextHop: { host: '127.0.0.1', port: Number(hbonePortText) },
    authority: `127.0.0.1:${backendPort}`,
    certificate: client,
    trustRoots: roots,
  };
  const onConnection = (socket: Socket): void => {
    socket.on('error', () => undefined);
    pool.connect({ ...template, forwardedFor: socket.remoteAddress }).then(
      (tunnel) => void pipeTunnel(socket, tunnel),
      () => socket.destroy(),
    );
  };
  const listener = createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', 4096, r));
  return (listener.address() as AddressInfo).port;
}

const ports: number[] = [];
for (const p of backendPorts) ports.push(await listenFor(p));
installMemoryProbe();
startAgentMemoryTrim();
process.on('SIGTERM', () => process.exit(0));
console.log(`READY ${JSON.stringify({ ports })}`);
