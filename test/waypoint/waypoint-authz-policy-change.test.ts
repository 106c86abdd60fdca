// Pins that a policy change reaches requests on connections already open: the waypoint captured the
// Service's policies when a tunnel was accepted, so a DENY added later was never applied to a keep-alive
// connection (fail open for as long as the client kept it), and a removed DENY kept refusing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { httpBackend, policy, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint L7 authorization after a policy change', () => {
  let lab: Lab;
  let web: Backend;
  let pool: Pool;
  let state: Parameters<Lab['setState']>[0];
  let connections = 0;

  beforeAll(async () => {
    web = await httpBackend((_req, res) => res.end('ok'));
    lab = await startLab();
    const s = service('web', '10.96.0.60', 80, [web]);
    state = {
      services: [s.service],
      workloads: s.workloads,
      routes: [route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })],
    };
    lab.setState(state);
    pool = new Pool(`http://127.0.0.1:${await lab.listen('10.96.0.60:80')}`, { connections: 1, pipelining: 1 });
    pool.on('connect', () => connections++);
  });
  afterAll(async () => {
    await pool.close();
    await lab.close();
    await web.close();
  });

  const get = async (): Promise<number> => {
    const r = await pool.request({ method: 'GET', path: '/' });
    await r.body.text();
    return r.statusCode;
  };

  it('applies a DENY added while the connection is open, and lifts it when removed', async () => {
    expect(await get()).toBe(200);
    lab.setState({ ...state, policies: [policy({ name: 'deny-all', targets: [{ kind: 'service', name: 'web' }], action: 'DENY', rules: [{}] })] });
    expect(await get()).toBe(403);
    lab.setState(state);
    expect(await get()).toBe(200);
    expect(connections).toBe(1);
  });
});
