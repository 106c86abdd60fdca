// Pins the read-only admin protocol both ends share (lib/admin/read-only-routes.ts on the components,
// cli/admin/admin-client.ts in the CLI), over real HTTP on loopback: a GET is answered as JSON with its
// query; anything but GET is refused (the admin port changes nothing); a component's WeftError reaches the
// CLI as the same code with the same message and hint; an unknown path lists the known ones; a port
// nobody listens on is ERR_WEFT_CLI_ADMIN_UNREACHABLE naming the component. Failure it guards: a CLI that
// printed "HTTP 404" where the agent had said which pod it did not know, and what to run.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet } from '../../cli/admin/admin-client.js';
import { directEndpoint } from '../../cli/admin/admin-target.js';
import { answerReadOnly, notFound, queryParam, type ReadOnlyRoutes } from '../../lib/admin/index.js';
import { WeftError } from '../../lib/errors/index.js';
import { freePort } from '../support/free-port.js';

const routes: ReadOnlyRoutes = {
  '/debug/echo': (q) => ({ pod: queryParam(q, 'pod', '/debug/echo'), port: q.get('port') }),
  '/debug/pod': (q) => {
    throw new WeftError('ERR_WEFT_ADMIN_UNKNOWN_POD', { pod: q.get('pod') ?? '', node: 'n1' });
  },
  '/debug/broken': () => {
    throw new Error('boom');
  },
};

describe('the admin endpoints are read-only JSON, and their refusals reach the CLI by code', () => {
  let server: Server;
  let address: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (!answerReadOnly(req, res, routes)) notFound(res, routes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const ep = () => directEndpoint({ kind: 'agent', node: 'n1' }, address);

  it('answers a GET with its query', async () => {
    expect(await adminGet(ep(), '/debug/echo', { pod: 'ex/client', port: 80, skipped: undefined })).toEqual({ pod: 'ex/client', port: '80' });
  });

  it("raises the component's own error: same code, message and hint", async () => {
    const err = await adminGet(ep(), '/debug/pod', { pod: 'ex/nobody' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeftError);
    const expected = new WeftError('ERR_WEFT_ADMIN_UNKNOWN_POD', { pod: 'ex/nobody', node: 'n1' });
    expect(err).toMatchObject({ code: expected.code, message: expected.message, hint: expected.hint });
    // A missing query parameter is the caller's error (400), by code too.
    await expect(adminGet(ep(), '/debug/echo')).rejects.toMatchObject({ code: 'ERR_WEFT_ADMIN_QUERY_INVALID' });
    // An unexpected failure is an internal error, not a crash of the admin server.
    await expect(adminGet(ep(), '/debug/broken')).rejects.toMatchObject({ code: 'ERR_WEFT_CORE_INTERNAL' });
    expect(await adminGet(ep(), '/debug/echo', { pod: 'still/serving' })).toMatchObject({ pod: 'still/serving' });
  });

  it('refuses anything but GET, and lists the paths on a 404', async () => {
    const post = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`http://${address}/debug/echo?pod=a/b`, { method: 'POST' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('x');
    });
    expect(post.status).toBe(405);
    const missing = await adminGet(ep(), '/nothing').catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ERR_WEFT_CLI_ADMIN_BAD_ANSWER' });
    expect((missing as Error).message).toContain('try /debug/echo, /debug/pod, /debug/broken');
  });

  it('names the component and the address when nothing listens there', async () => {
    const port = await freePort();
    const err = await adminGet(directEndpoint({ kind: 'waypoint', namespace: 'ex', name: 'waypoint' }, `127.0.0.1:${port}`), '/debug/workloads').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WEFT_CLI_ADMIN_UNREACHABLE' });
    expect((err as Error).message).toContain(`waypoint ex/waypoint at 127.0.0.1:${port}`);
  });
});
