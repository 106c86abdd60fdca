import { createServer, type Server } from 'node:http';
import { parseHostPort } from '../lib/host-port.js';
import { listenHttp } from '../lib/telemetry/http-endpoints.js';
import { answerReadOnly, notFound, type ReadOnlyRoutes } from '../lib/admin/index.js';
import { answerTap, type TapHub } from '../lib/tap/index.js';

// Admin (15000, loopback by default): /config_dump, /healthz/ready and the read-only views `weft get` and
// `weft explain` read (/debug/workloads, /debug/policies, /debug/certificates, /debug/explain), and the
// stream `weft tap` reads (/debug/tap, lib/tap). A tiny node:http server, not on the request path;
// health (15021) is lib/telemetry's.

export interface AdminSources {
  /** The read-only JSON endpoints, /config_dump among them. */
  readonly routes: ReadOnlyRoutes;
  readonly tap: TapHub;
  /** `waypoint <ns>/<name>`, for the tap's hello line and refusals. */
  readonly component: string;
  ready(): boolean;
}

export async function serveAdmin(address: string, src: AdminSources): Promise<Server> {
  const server = createServer((req, res) => {
    if (answerTap(req, res, src.tap, src.component)) return;
    if (answerReadOnly(req, res, src.routes)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/healthz/ready' || path === '/ready')) {
      res.writeHead(src.ready() ? 200 : 503).end(src.ready() ? 'ready\n' : 'not ready\n');
      return;
    }
    notFound(res, src.routes);
  });
  await listenHttp(server, parseHostPort(address, '--admin-address'));
  return server;
}
