import { createServer, type Server } from 'node:http';
import { parseHostPort } from '../lib/host-port.js';
import { answerReadOnly, notFound, type ReadOnlyRoutes } from '../lib/admin/index.js';

// Admin (15000, loopback by default): /config_dump and the read-only views `weft get` and `weft explain`
// read (/debug/workloads, /debug/policies, /debug/certificates, /debug/explain); health (15021):
// /healthz/ready. Both tiny node:http servers; neither is on the request path.

export interface AdminSources {
  /** The read-only JSON endpoints, /config_dump among them. */
  readonly routes: ReadOnlyRoutes;
  ready(): boolean;
}

function listen(server: Server, address: string): Promise<Server> {
  const { host, port } = parseHostPort(address, 'admin/health address');
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function serveAdmin(address: string, src: AdminSources): Promise<Server> {
  const server = createServer((req, res) => {
    if (answerReadOnly(req, res, src.routes)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/healthz/ready' || path === '/ready')) {
      res.writeHead(src.ready() ? 200 : 503).end(src.ready() ? 'ready\n' : 'not ready\n');
      return;
    }
    notFound(res, src.routes);
  });
  return listen(server, address);
}

export function serveHealth(address: string, src: Pick<AdminSources, 'ready'>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz/ready') {
      const ok = src.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      return;
    }
    res.writeHead(404).end();
  });
  return listen(server, address);
}

export { listen as listenOn };
