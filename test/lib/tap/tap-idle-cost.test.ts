// Pins what tap costs when nobody listens: the node agent's connection registry and the waypoint's
// request path read TapHub.listening and never reach publish() (so never build an event) while no
// listener is attached; with one attached they publish each connection (open, close) and each request,
// with both identities and the verdict; after it leaves they stop again.
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../lib/telemetry/log.js';
import { NO_SERVICE } from '../../../lib/telemetry/istio-labels.js';
import { Connections, type ConnectionInfo } from '../../../node-agent/proxy/connections.js';
import { TapHub } from '../../../lib/tap/index.js';
import { eventually } from '../../support/eventually.js';
import { CLIENT_ID, httpBackend, route, service, startLab, type Backend, type Lab } from '../../waypoint/harness.js';
import { MemorySink } from './tap-events.js';

const INFO: ConnectionInfo = {
  reporter: 'destination',
  direction: 'inbound',
  podUid: 'u1',
  srcIp: '10.244.1.2',
  srcWorkload: 'client',
  srcNamespace: 'demo',
  srcIdentity: CLIENT_ID,
  dst: '10.244.2.3:8080',
  dstWorkload: 'web',
  dstNamespace: 'demo',
  dstIdentity: 'spiffe://cluster.local/ns/demo/sa/web',
  path: 'hbone',
  dstPort: 8080,
  service: NO_SERVICE,
  security: 'mutual_tls',
};

function connection(connections: Connections): void {
  const down = new PassThrough();
  const up = new PassThrough();
  connections.track(INFO, down, up, () => [10, 20]);
  down.destroy();
  up.destroy();
}

describe('tap when nobody listens', () => {
  it('the node agent never publishes a connection while no one listens', async () => {
    const hub = new TapHub({ registry: new Registry() });
    const publish = vi.spyOn(hub, 'publish');
    const connections = new Connections(new Registry(), silentLogger, hub);
    connection(connections);
    await new Promise((r) => setImmediate(r));
    expect(publish).not.toHaveBeenCalled();

    const sink = new MemorySink();
    const l = hub.attach({}, sink)!;
    connection(connections);
    await eventually(() => sink.lines.length === 2, 5_000, 'open and close published');
    expect(sink.events()).toMatchObject([
      { type: 'connection', event: 'open', source: { identity: CLIENT_ID } },
      { type: 'connection', event: 'close', outcome: 'ok', bytesSent: 10, bytesReceived: 20 },
    ]);
    hub.detach(l);
    publish.mockClear();
    connection(connections);
    await new Promise((r) => setImmediate(r));
    expect(publish).not.toHaveBeenCalled();
  });

  describe('the waypoint', () => {
    let lab: Lab;
    let web: Backend;
    let port: number;
    beforeAll(async () => {
      web = await httpBackend((_req, res) => res.end('ok'));
      lab = await startLab();
      const s = service('web', '10.96.0.61', 80, [web]);
      lab.setState({ services: [s.service], workloads: s.workloads, routes: [route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })] });
      port = await lab.listen('10.96.0.61:80');
    });
    afterAll(async () => {
      await lab.close();
      await web.close();
    });

    const get = async (path: string): Promise<void> => {
      const r = await request(`http://127.0.0.1:${port}${path}`);
      expect(r.statusCode).toBe(200);
      await r.body.text();
    };

    it('never publishes a request while no one listens, and publishes each one while someone does', async () => {
      const hub = lab.waypoint.tap;
      const publish = vi.spyOn(hub, 'publish');
      await get('/idle');
      expect(publish).not.toHaveBeenCalled();
      const sink = new MemorySink();
      const l = hub.attach({}, sink)!;
      await get('/watched?q=1');
      await eventually(() => sink.lines.length === 1, 5_000, 'request published');
      expect(sink.events()[0]).toMatchObject({ type: 'request', method: 'GET', path: '/watched', status: 200, route: 'demo/web', backend: 'demo/web:80', source: { identity: CLIENT_ID }, verdict: { action: 'allow' } });
      hub.detach(l);
      publish.mockClear();
      await get('/idle-again');
      expect(publish).not.toHaveBeenCalled();
    });
  });
});
