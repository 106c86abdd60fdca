import { createServer, type Server } from 'node:http';
import { parseHostPort } from '../lib/host-port.js';
import { listenHttp } from '../lib/telemetry/http-endpoints.js';

// Admin (15000, loopback by default): /config_dump and /healthz/ready. A tiny node:http server, not on the
// request path; health (15021) is lib/telemetry's.

export interface AdminSources {
  dump(): unknown;
  ready(): boolean;
}

export async function serveAdmin(address: string, src: AdminSources): Promise<Server> {
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
  await listenHttp(server, parseHostPort(address, '--admin-address'));
  return server;
}
