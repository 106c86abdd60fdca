// Pins protocol selection per Service port: a port declared `tcp` forwards opaque bytes and a
// server-speaks-first backend greets at once (no detection stall); an undeclared port sniffs HTTP/1.1 and
// h2 prior knowledge from the first bytes, and falls back to opaque TCP after the short bound when the
// client stays silent; an `http` port also accepts h2 prior knowledge (curl --http2-prior-knowledge).
import { connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { GATEWAY, httpBackend, podIp, route, startLab, type Backend, type Lab } from './harness.js';
import { ServiceSchema, WorkloadSchema } from '../../lib/model/index.js';
import { classifyBytes, declaredProtocol } from '../../waypoint/downstream/protocol-detect.js';

describe('declared protocol', () => {
  const cases: Array<[{ name?: string; appProtocol?: string }, string | undefined]> = [
    [{ appProtocol: 'http' }, 'http'],
    [{ appProtocol: 'kubernetes.io/h2c' }, 'h2'],
    [{ appProtocol: 'grpc' }, 'h2'],
    [{ appProtocol: 'mysql' }, 'tcp'],
    [{ appProtocol: 'something-unknown' }, 'tcp'],
    [{ name: 'http-web' }, 'http'],
    [{ name: 'grpc' }, 'h2'],
    [{ name: 'tcp-db' }, 'tcp'],
    [{ name: 'web' }, undefined],
    [{}, undefined],
  ];
  for (const [p, want] of cases) it(JSON.stringify(p), () => expect(declaredProtocol({ port: 1, targetPort: 1, ...p })).toBe(want));
  it('classifies first bytes', () => {
    expect(classifyBytes(Buffer.from('PRI * HTTP/2.0\r\n'))).toBe('h2');
    expect(classifyBytes(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('http1');
    expect(classifyBytes(Buffer.from([0x16, 0x03, 0x01]))).toBe('tcp');
  });
});

describe('waypoint protocols', () => {
  let lab: Lab;
  let web: Backend;
  let greeter: Server;
  let greeterIp: string;
  let greeterPort: number;
  let h2: Http2Server;
  let h2Ip: string;
  let h2Port: number;

  beforeAll(async () => {
    web = await httpBackend((req, res) => res.end(`http ${req.httpVersion}`));
    greeterIp = podIp();
    greeter = createServer((s) => {
      s.write('220 hello\r\n');
      s.on('data', (c: Buffer) => s.write(`echo ${c.toString()}`));
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => greeter.listen(0, greeterIp, resolve));
    greeterPort = (greeter.address() as AddressInfo).port;
    h2Ip = podIp();
    h2 = createH2Server((req, res) => res.end(`http ${req.httpVersion}`));
    await new Promise<void>((resolve) => h2.listen(0, h2Ip, resolve));
    h2Port = (h2.address() as AddressInfo).port;
    lab = await startLab();
    const wp = { ...GATEWAY, address: '127.0.0.1', identity: 'x' };
    const svc = (name: string, vip: string, port: { name?: string; appProtocol?: string }, ip: string, targetPort: number) =>
      ServiceSchema.parse({ namespace: 'demo', name, vips: [vip], ports: [{ port: 80, targetPort, ...port }], endpoints: [{ workloadUid: name, address: ip }], waypoint: wp });
    lab.setState({
      services: [
        svc('smtp', '10.96.1.1', { name: 'tcp-smtp' }, greeterIp, greeterPort),
        svc('undeclared-tcp', '10.96.1.2', { name: 'other' }, greeterIp, greeterPort),
        svc('undeclared-http', '10.96.1.3', { name: 'other' }, web.ip, web.port),
        svc('web', '10.96.1.4', { name: 'http' }, web.ip, web.port),
        svc('web2', '10.96.1.5', { appProtocol: 'kubernetes.io/h2c' }, h2Ip, h2Port),
        svc('undeclared-h2', '10.96.1.6', { name: 'other' }, h2Ip, h2Port),
      ],
      workloads: [WorkloadSchema.parse({ uid: 'smtp', name: 'smtp', namespace: 'demo', ips: [greeterIp] })],
      routes: ['undeclared-http', 'web', 'web2', 'undeclared-h2'].map((name) => route({ name, parents: [{ namespace: 'demo', name }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name }, port: 80 }] }] })),
    });
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
    greeter.close();
    h2.close();
  });

  function greeting(port: number): Promise<{ text: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const s = connect(port, '127.0.0.1');
      s.once('data', (c: Buffer) => {
        resolve({ text: c.toString(), ms: performance.now() - t0 });
        s.destroy();
      });
      s.once('error', reject);
    });
  }

  it('tcp port: a server-speaks-first greeting arrives without waiting for detection', async () => {
    const g = await greeting(await lab.listen('10.96.1.1:80'));
    expect(g.text).toBe('220 hello\r\n');
    expect(g.ms).toBeLessThan(150);
  });

  it('undeclared port: a silent client falls back to opaque TCP after the bound', async () => {
    const g = await greeting(await lab.listen('10.96.1.2:80'));
    expect(g.text).toBe('220 hello\r\n');
    expect(g.ms).toBeGreaterThanOrEqual(150);
  });

  it('undeclared port: HTTP/1.1 is detected and routed', async () => {
    const r = await request(`http://127.0.0.1:${await lab.listen('10.96.1.3:80')}/`);
    expect(await r.body.text()).toBe('http 1.1');
  });

  // Upstream speaks what the port declares (http → HTTP/1.1, h2c → h2); undeclared, what the client spoke.
  for (const [name, vip, want] of [
    ['http port', '10.96.1.4:80', 'http 1.1'],
    ['h2c port', '10.96.1.5:80', 'http 2.0'],
    ['undeclared port', '10.96.1.6:80', 'http 2.0'],
  ] as const) {
    it(`${name}: h2 prior knowledge is served (upstream ${want})`, async () => {
      const port = await lab.listen(vip);
      const session = h2connect(`http://127.0.0.1:${port}`);
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/' });
        let status = 0;
        let text = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (c: Buffer) => (text += c.toString()));
        s.on('end', () => resolve({ status, text }));
        s.on('error', reject);
      });
      session.close();
      expect(body.status).toBe(200);
      expect(body.text).toBe(want);
    });
  }
});
