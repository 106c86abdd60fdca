import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { StateStore, RouteSchema, ServiceSchema, WorkloadSchema, AuthorizationPolicySchema, type Route, type Service, type AuthorizationPolicy } from '../../lib/model/index.js';
import type { Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/telemetry/log.js';
import { TcpConnector, type Connector } from '../../waypoint/transport/connector.js';
import { Waypoint } from '../../waypoint/waypoint.js';

// In-process waypoint over loopback: backends are real node:http servers on 127.0.0.x (all of 127/8 is
// loopback, so each "pod" gets its own IP), and each "tunnel" is a loopback TCP connection to a listener
// that tells the waypoint which VIP:port and which client identity the tunnel carries.

export const GATEWAY = { namespace: 'demo', name: 'waypoint' };
export const CLIENT_ID = 'spiffe://cluster.local/ns/demo/sa/client';

let nextIp = 10;
/** A fresh loopback "pod IP" per backend so endpoints are distinct. */
export function podIp(): string {
  return `127.0.1.${nextIp++}`;
}

export interface Backend {
  readonly ip: string;
  readonly port: number;
  readonly server: Server;
  hits: number;
  close(): Promise<void>;
}

export async function httpBackend(handler: (req: IncomingMessage, res: ServerResponse, b: Backend) => void, ip = podIp()): Promise<Backend> {
  const b = { ip, port: 0, hits: 0 } as { ip: string; port: number; hits: number; server: Server; close(): Promise<void> };
  const server = createHttpServer((req, res) => {
    b.hits++;
    handler(req, res, b);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  b.port = (server.address() as AddressInfo).port;
  b.server = server;
  b.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return b;
}

/** A Service with the given backends as endpoints (all on the same target port is not required: one port per backend is modelled as one Service each). */
export function service(name: string, vip: string, port: number, backends: readonly Backend[], extra: Partial<Service> & { appProtocol?: string; portName?: string } = {}): { service: Service; workloads: ReturnType<typeof WorkloadSchema.parse>[] } {
  const ns = extra.namespace ?? 'demo';
  const targetPort = backends[0]?.port ?? 9;
  for (const b of backends) if (b.port !== targetPort) throw new Error('backends of one Service must share a port; use sameport()');
  const workloads = backends.map((b, i) =>
    WorkloadSchema.parse({ uid: `${name}-${i}-${b.ip}`, name: `${name}-${i}`, namespace: ns, serviceAccount: name, ips: [b.ip], captured: true }),
  );
  const svc = ServiceSchema.parse({
    namespace: ns,
    name,
    vips: [vip],
    ports: [{ name: extra.portName ?? 'http', port, targetPort, appProtocol: extra.appProtocol }],
    endpoints: backends.map((b, i) => ({ workloadUid: workloads[i].uid, address: b.ip })),
    waypoint: { namespace: GATEWAY.namespace, name: GATEWAY.name, address: '127.0.0.1', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint' },
  });
  return { service: svc, workloads };
}

/** Starts several backends on distinct IPs but the same port (so they can form one Service). */
export async function samePortBackends(n: number, handler: (req: IncomingMessage, res: ServerResponse, b: Backend) => void): Promise<Backend[]> {
  const first = await httpBackend(handler);
  const out = [first];
  for (let i = 1; i < n; i++) {
    const ip = podIp();
    const b = { ip, port: first.port, hits: 0 } as Backend & { hits: number };
    const server = createHttpServer((req, res) => {
      b.hits++;
      handler(req, res, b);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(first.port, ip, resolve);
    });
    Object.assign(b, {
      server,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    });
    out.push(b);
  }
  return out;
}

export type RouteInput = Omit<z.input<typeof RouteSchema>, 'namespace' | 'kind'> & { namespace?: string; kind?: Route['kind'] };

export function route(r: RouteInput): Route {
  return RouteSchema.parse({ kind: 'HTTPRoute', namespace: 'demo', ...r });
}

export function policy(p: Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace'> & { namespace?: string }): AuthorizationPolicy {
  return AuthorizationPolicySchema.parse({ namespace: 'demo', ...p });
}

export interface Lab {
  readonly store: StateStore;
  readonly waypoint: Waypoint;
  readonly registry: Registry;
  /** A loopback port whose connections are tunnels to `authority` from `principal`. */
  listen(authority: string, principal?: string, sourceIp?: string): Promise<number>;
  setState(s: { services: Service[]; workloads?: ReturnType<typeof WorkloadSchema.parse>[]; routes?: Route[]; policies?: AuthorizationPolicy[] }): void;
  close(): Promise<void>;
}

export function startLab(options: { connector?: Connector; random?: () => number; clock?: Clock; accessLog?: Logger; log?: Logger } = {}): Promise<Lab> {
  const store = new StateStore();
  const registry = new Registry();
  const waypoint = new Waypoint({
    view: store,
    gateway: GATEWAY,
    connector: options.connector ?? new TcpConnector(),
    registry,
    log: options.log ?? silentLogger,
    accessLog: options.accessLog ?? null,
    identity: 'spiffe://cluster.local/ns/demo/sa/waypoint',
    random: options.random,
    clock: options.clock,
  });
  const listeners: NetServer[] = [];
  const sockets = new Set<Socket>();
  let version = 0;
  return Promise.resolve({
    store,
    waypoint,
    registry,
    async listen(authority, principal = CLIENT_ID, sourceIp) {
      const srv = createNetServer({ noDelay: true }, (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        waypoint.acceptTunnel(socket, { authority, principal, sourceIp });
      });
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      listeners.push(srv);
      return (srv.address() as AddressInfo).port;
    },
    setState(s) {
      const v = String(++version);
      store.apply([
        { kind: 'Workload', version: v, upserts: s.workloads ?? [], removes: [], replace: true },
        { kind: 'Service', version: v, upserts: s.services, removes: [], replace: true },
        { kind: 'Authorization', version: v, upserts: s.policies ?? [], removes: [], replace: true },
        { kind: 'RouteTable', version: v, upserts: [{ namespace: GATEWAY.namespace, name: GATEWAY.name, routes: s.routes ?? [] }], removes: [], replace: true },
      ]);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
      waypoint.close();
    },
  });
}

/** One HTTP/1.1 request with node:http (no pooling surprises); resolves status, headers and body text. */
export { request as undiciRequest } from 'undici';
