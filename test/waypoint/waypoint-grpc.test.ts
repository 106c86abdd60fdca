// Pins gRPC through the waypoint (h2 prior knowledge end to end): GRPCRoute service/method matching picks
// the backend, a backend answering UNAVAILABLE is retried (retry on gRPC status 14) until it succeeds,
// trailers (grpc-status) reach the client, a status not configured is passed through unretried, and a
// gRPC request no rule matches gets UNIMPLEMENTED from the waypoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { GATEWAY, podIp, route, startLab, type Lab } from './harness.js';
import { ServiceSchema, WorkloadSchema } from '../../lib/model/index.js';

const identity = (b: Buffer): Buffer => b;
const method = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity });
const DEF = { sayHello: method('/helloworld.Greeter/SayHello'), sayBye: method('/helloworld.Greeter/SayBye'), fail: method('/helloworld.Greeter/Fail') };

interface GrpcBackend {
  ip: string;
  port: number;
  calls: number;
  server: grpc.Server;
}

async function grpcBackend(name: string, failFirst: () => boolean): Promise<GrpcBackend> {
  const server = new grpc.Server();
  const b: GrpcBackend = { ip: podIp(), port: 0, calls: 0, server };
  const reply =
    (what: string) =>
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void => {
      b.calls++;
      if (failFirst()) cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
      else cb(null, Buffer.from(`${name}:${what}:${String(call.metadata.get('x-weft-attempt')[0])}:${call.request.toString()}`));
    };
  server.addService(DEF, {
    sayHello: reply('hello'),
    sayBye: reply('bye'),
    fail: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => {
      b.calls++;
      cb({ code: grpc.status.PERMISSION_DENIED, details: 'no' });
    },
  });
  b.port = await new Promise<number>((resolve, reject) => server.bindAsync(`${b.ip}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return b;
}

describe('waypoint gRPC', () => {
  let lab: Lab;
  let hello: GrpcBackend;
  let bye: GrpcBackend;
  let client: grpc.Client & Record<string, (req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void>;
  let helloFailures = 0;

  beforeAll(async () => {
    hello = await grpcBackend('hello', () => helloFailures-- > 0);
    bye = await grpcBackend('bye', () => false);
    lab = await startLab();
    const wl = (name: string, b: GrpcBackend) => WorkloadSchema.parse({ uid: name, name, namespace: 'demo', serviceAccount: name, ips: [b.ip] });
    const svc = (name: string, vip: string, b: GrpcBackend | undefined) =>
      ServiceSchema.parse({
        namespace: 'demo',
        name,
        vips: [vip],
        ports: [{ name: 'grpc', port: 50051, targetPort: b?.port ?? 1, appProtocol: 'grpc' }],
        endpoints: b ? [{ workloadUid: name, address: b.ip }] : [],
        waypoint: { ...GATEWAY, address: '127.0.0.1', identity: 'x' },
      });
    lab.setState({
      services: [svc('greeter', '10.96.0.70', undefined), svc('hello', '10.96.0.71', hello), svc('bye', '10.96.0.72', bye)],
      workloads: [wl('hello', hello), wl('bye', bye)],
      routes: [
        route({
          kind: 'GRPCRoute',
          name: 'greeter',
          parents: [{ namespace: 'demo', name: 'greeter' }],
          rules: [
            { matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter', method: 'SayBye' }, headers: [] }], backendRefs: [{ service: { namespace: 'demo', name: 'bye' }, port: 50051, weight: 1 }] },
            { matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter', method: 'SayHello' }, headers: [] }, { method: { type: 'Exact', service: 'helloworld.Greeter', method: 'Fail' }, headers: [] }], retry: { codes: [], grpcCodes: [14], attempts: 5 }, backendRefs: [{ service: { namespace: 'demo', name: 'hello' }, port: 50051, weight: 1 }] },
          ],
        }),
      ],
    });
    const port = await lab.listen('10.96.0.70:50051');
    const Ctor = grpc.makeGenericClientConstructor(DEF, 'Greeter');
    client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client.close();
    await lab.close();
    hello.server.forceShutdown();
    bye.server.forceShutdown();
  });

  const call = (name: string, body: string): Promise<{ err: grpc.ServiceError | null; res?: string }> =>
    new Promise((resolve) => client[name](Buffer.from(body), (err, res) => resolve({ err, res: res?.toString() })));

  it('GRPCRoute method match picks the backend', async () => {
    expect((await call('sayBye', 'x')).res).toBe('bye:bye:1:x');
    expect((await call('sayHello', 'y')).res).toBe('hello:hello:1:y');
  });

  it('UNAVAILABLE is retried until success', async () => {
    helloFailures = 2;
    const before = hello.calls;
    const r = await call('sayHello', 'z');
    expect(r.err).toBeNull();
    expect(r.res).toBe('hello:hello:3:z');
    expect(hello.calls - before).toBe(3);
  });

  it('a status not configured for retry passes through once', async () => {
    const before = hello.calls;
    const r = await call('fail', 'q');
    expect(r.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(hello.calls - before).toBe(1);
  });

  it('no matching rule → UNIMPLEMENTED', async () => {
    const Ctor = grpc.makeGenericClientConstructor({ other: method('/other.Svc/Do') }, 'Other');
    const port = await lab.listen('10.96.0.70:50051');
    const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
    const r = await new Promise<grpc.ServiceError | null>((resolve) => c.other(Buffer.from('a'), (err) => resolve(err)));
    c.close();
    expect(r?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
