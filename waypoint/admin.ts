import { createServer, type Server } from 'node:http';
import { parseHostPort } from '../lib/host-port.js';

// Admin (15000, loopback by default): /config_dump; health (15021): /healthz/ready. Both tiny node:http
// servers; neither is on the request path.

export interface AdminSources {
  dump(): unknown;
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
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/config_dump') {
      const body = JSON.stringify(src.dump(), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (req.method === 'GET' && (path === '/healthz/ready' || path === '/ready')) {
      res.writeHead(src.ready() ? 200 : 503).end(src.ready() ? 'ready\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /config_dump\n');
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
