import { createServer, type Server } from 'node:http';

// The small HTTP servers every process runs beside its real work (health 15021, metrics 15020, admin
// 15000): where they listen and the readiness endpoint, written once.

/** A host and port, or an inherited listening fd (the node agent's SO_REUSEPORT sockets). */
export type ListenAt = { readonly host: string; readonly port: number } | { readonly fd: number };

/** Listens and resolves with the bound port (port 0 asks for an ephemeral one); a bind error rejects. */
export function listenHttp(server: Server, at: ListenAt): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen('fd' in at ? { fd: at.fd } : { host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve(boundPort(server));
    });
  });
}

/** The port a listening server is bound to (the ephemeral one when it asked for 0). */
export function boundPort(server: Server): number {
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/**
 * `GET /healthz/ready`: 200 `ready` while `notReady()` returns undefined, else 503 `not ready` with the
 * reason it returned (kubelet probes only look at the status).
 */
export async function serveHealth(at: ListenAt, notReady: () => string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/healthz/ready') return void res.writeHead(404).end();
    const reason = notReady();
    if (reason === undefined) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(reason === '' ? 'not ready\n' : `not ready: ${reason}\n`);
  });
  await listenHttp(server, at);
  return server;
}
