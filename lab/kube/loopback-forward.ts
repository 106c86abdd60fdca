import { createServer, type Server } from 'node:net';
import { startComponent, type Health, type Placement, type RunningComponent } from './components.js';

/**
 * A TCP forward from the host's loopback into a lab namespace, so that plain `kubectl` and `helm` on the
 * host reach the API server that runs in the lab's root namespace. The listening socket is made here, in
 * the host's namespace (127.0.0.1 only), and handed as fd 3 to a recorded child that runs inside the
 * namespace: the connections it accepts belong to the host's loopback, the ones it opens to the target
 * belong to the namespace. Nothing of the lab is bound on a host interface, and only the host's own
 * processes can connect.
 */
export interface LoopbackForwardOptions extends Placement {
  /** Inside the placement's namespace. */
  readonly target: { readonly host: string; readonly port: number };
  /** Host loopback port (default: a free one the kernel picks). */
  readonly port?: number;
  /** How to tell that the forward works end to end (built from the chosen port). */
  readonly health?: (port: number) => Health;
}

export interface LoopbackForward extends RunningComponent {
  readonly port: number;
}

export async function startLoopbackForward(o: LoopbackForwardOptions): Promise<LoopbackForward> {
  const server = createServer((socket) => {
    // Only in the moment between the child's start and the close below can this process accept one of
    // the socket's connections: drop it (the client retries) rather than hold it unanswered.
    socket.destroy();
  });
  // The port of an earlier run when it is still free (kubeconfigs copied from it keep working), else any.
  await listen(server, o.port ?? 0).catch((err: NodeJS.ErrnoException) => {
    if (o.port === undefined || err.code !== 'EADDRINUSE') throw err;
    return listen(server, 0);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  try {
    if (fd === undefined || fd < 0) throw new Error('the listening socket has no file descriptor to pass on');
    const health: Health = { ...(o.health?.(port) ?? { url: `http://127.0.0.1:${port}/` }), fromHost: true };
    const id = o.id ?? 'kube-forward';
    const running = await startComponent({ ...o, id }, id, [process.execPath, '-e', FORWARD, o.target.host, String(o.target.port)], health, [fd]);
    return { ...running, port };
  } finally {
    server.close();
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The child: accepts on fd 3, opens one connection to `<host> <port>` per accepted one and copies bytes
 * both ways; either side closing or failing closes both. One line per failed dial goes to the log.
 * CommonJS on purpose (`-e` without --input-type).
 */
const FORWARD = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((client) => {
  const upstream = net.connect({ host, port: Number(port) });
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  client.on('close', close);
  upstream.on('error', (e) => { process.stdout.write(JSON.stringify({ msg: 'dial failed', target: host + ':' + port, err: e.code || e.message }) + '\\n'); close(); });
  upstream.on('close', close);
});
server.listen({ fd: 3 }, () => process.stdout.write(JSON.stringify({ msg: 'forwarding', target: host + ':' + port }) + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;
