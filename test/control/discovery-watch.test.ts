// Pins DiscoveryService.Watch over real gRPC/TLS: a watcher gets a snapshot per kind then deltas; a
// reconnect with its versions gets only what changed; scoping (node agent: no route tables; waypoint:
// its route table, endpoint workloads, policies aimed at it); watch authentication; and coalescing of a
// burst of changes into fewer pushes than changes.
import { afterEach, describe, expect, it } from 'vitest';
import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { DiscoveryServiceClient, type WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import { controlChannelOptions, controlCredentials } from '../../lib/control-client/channel.js';
import { namespace, pod, service, startTestControl, until, waypointDeployment, waypointGateway, type TestControl } from './compile-fixtures.js';

let ctl: TestControl | undefined;
const clients: DiscoveryServiceClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ctl?.close();
  ctl = undefined;
});

const agentN1 = { namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: 'agent-n1', uid: 'a1' }, node: { name: 'n1' } };

interface Watch {
  messages: WatchResponse[];
  stream: ClientReadableStream<WatchResponse>;
  error?: ServiceError;
  of(kind: string): WatchResponse[];
}

async function watch(c: TestControl, req: { node?: string; waypoint?: string; kinds?: string[]; initialVersions?: Record<string, string> }, token?: string): Promise<Watch> {
  const client = new DiscoveryServiceClient(c.address, controlCredentials({ address: c.address, caRootPem: c.caRootPem }), controlChannelOptions({ address: c.address, caRootPem: c.caRootPem }));
  clients.push(client);
  const md = new Metadata();
  md.set('authorization', `Bearer ${token ?? (await c.token(agentN1))}`);
  const stream = client.watch({ node: req.node ?? '', waypoint: req.waypoint ?? '', kinds: req.kinds ?? [], initialVersions: req.initialVersions ?? {} }, md);
  const w: Watch = { messages: [], stream, of: (kind) => w.messages.filter((m) => m.kind === kind) };
  stream.on('data', (m: WatchResponse) => w.messages.push(m));
  stream.on('error', (e: ServiceError) => (w.error = e));
  return w;
}

const names = (m: WatchResponse[]) => m.flatMap((x) => x.upserts.map((u) => u.workload?.name ?? u.service?.name ?? u.authorization?.name ?? u.routeTable?.name ?? 'tb'));

describe('DiscoveryService.Watch', () => {
  it('sends a snapshot per kind, then a delta when a pod changes', async () => {
    ctl = await startTestControl([namespace('weft-system'), pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' }), pod('a', { uid: 'ua' }), service('svc')]);
    const w = await watch(ctl, { node: 'n1' });
    await until(() => w.messages.filter((m) => m.snapshotDone).length === 5, 'snapshots of 5 kinds');
    expect(w.of('Workload')[0]).toMatchObject({ replace: true, snapshotDone: true });
    expect(names(w.of('Workload')).sort()).toEqual(['a', 'agent-n1']);
    expect(w.of('TrustBundle')[0].upserts[0].trustBundle!.rootsPem).toEqual(ctl.ca.rootsPem);
    expect(w.of('RouteTable')[0].upserts).toEqual([]); // node agents get no route tables
    const before = w.messages.length;
    await ctl.cluster.write(pod('b', { uid: 'ub', ip: '10.244.1.77' }));
    await until(() => w.messages.length > before && names(w.messages.slice(before)).includes('b'), 'delta with pod b');
    const delta = w.messages.slice(before).find((m) => m.kind === 'Workload')!;
    expect(delta).toMatchObject({ replace: false, snapshotDone: false, removes: [] });
    expect(delta.upserts.map((u) => u.workload!.name)).toEqual(['b']);
    await ctl.cluster.remove(pod('b', { uid: 'ub' }));
    await until(() => w.messages.some((m) => m.removes.includes('ub')), 'removal of pod b');
  });

  it('resumes from versions: a reconnecting watcher gets only what changed', async () => {
    ctl = await startTestControl([namespace('weft-system'), pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' }), pod('a', { uid: 'ua' }), pod('c', { uid: 'uc' })]);
    const w1 = await watch(ctl, { node: 'n1' });
    await until(() => w1.messages.filter((m) => m.snapshotDone).length === 5, 'first snapshots');
    const versions = Object.fromEntries(w1.messages.map((m) => [m.kind, m.version]));
    w1.stream.cancel();
    await ctl.cluster.write(pod('a', { uid: 'ua', ip: '10.244.1.99' }));
    await until(() => ctl!.watch.version !== versions.Workload, 'control plane saw the change');
    const w2 = await watch(ctl, { node: 'n1', initialVersions: versions });
    await until(() => w2.messages.filter((m) => m.snapshotDone).length === 5, 'resumed');
    const wl = w2.of('Workload');
    expect(wl.every((m) => !m.replace)).toBe(true);
    expect(names(wl)).toEqual(['a']);
    expect(w2.of('Service').flatMap((m) => m.upserts)).toEqual([]);
    // A version from another epoch (another replica, a restart) gets a snapshot.
    const w3 = await watch(ctl, { node: 'n1', initialVersions: { Workload: 'other.3' } });
    await until(() => w3.of('Workload').some((m) => m.snapshotDone), 'snapshot');
    expect(w3.of('Workload')[0].replace).toBe(true);
    expect(names(w3.of('Workload')).sort()).toEqual(['a', 'agent-n1', 'c']);
  });

  it('scopes a waypoint to its route table, the workloads behind services and captured ones, and the policies aimed at it', async () => {
    ctl = await startTestControl([
      namespace('shop', { 'weft.dev/use-waypoint': 'wp' }),
      namespace('other'),
      waypointGateway('wp', 'shop'),
      waypointGateway('wp2', 'other'),
      waypointDeployment('wp', 'shop', 'wp'),
      service('wp', { ns: 'shop', ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
      service('cart', { ns: 'shop' }),
      pod('cart-1', { ns: 'shop', uid: 'c1', labels: { app: 'cart' } }),
      pod('lonely', { ns: 'other', uid: 'l1', labels: { app: 'nobody' } }),
      // A captured pod behind no Service: a possible client, so the waypoint knows it (its source_workload).
      pod('client', { ns: 'other', uid: 'cl', labels: { app: 'client', 'weft.dev/dataplane-mode': 'ambient' } }),
      { apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'in-shop', namespace: 'shop' }, spec: { action: 'ALLOW', rules: [{}] } },
      { apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'in-other', namespace: 'other' }, spec: { action: 'ALLOW', rules: [{}] } },
    ]);
    const token = await ctl.token({ namespace: 'shop', serviceAccount: 'wp', pod: { name: 'wp-x', uid: 'w' } });
    const w = await watch(ctl, { waypoint: 'shop/wp' }, token);
    await until(() => w.messages.filter((m) => m.snapshotDone).length === 5, 'snapshots');
    expect(names(w.of('RouteTable'))).toEqual(['wp']);
    expect(names(w.of('Workload')).sort()).toEqual(['cart-1', 'client']);
    expect(names(w.of('Authorization'))).toEqual(['in-shop']);
    expect(names(w.of('Service')).sort()).toEqual(['cart', 'wp']);
    // A new endpoint pod enters the waypoint's scope.
    await ctl.cluster.write(pod('cart-2', { ns: 'shop', uid: 'c2', labels: { app: 'cart' }, ip: '10.244.1.12' }));
    await until(() => names(w.of('Workload')).includes('cart-2'), 'cart-2 in scope');
    // Another gateway's waypoint may not watch as shop/wp.
    const denied = await watch(ctl, { waypoint: 'other/wp2' }, token);
    await until(() => denied.error !== undefined, 'refusal');
    expect(denied.error!.code).toBe(status.PERMISSION_DENIED);
  });

  it('refuses a node agent watching another node', async () => {
    ctl = await startTestControl([pod('a', { uid: 'ua' })]);
    const w = await watch(ctl, { node: 'n2' });
    await until(() => w.error !== undefined, 'refusal');
    expect(w.error!.code).toBe(status.PERMISSION_DENIED);
    expect(w.error!.details).toMatch(/not that node's agent/);
  });

  it('coalesces a burst of pod changes into fewer pushes than changes', async () => {
    ctl = await startTestControl([namespace('weft-system'), pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' })], { debounceMs: 50 });
    const w = await watch(ctl, { node: 'n1', kinds: ['Workload'] });
    await until(() => w.messages.some((m) => m.snapshotDone), 'snapshot');
    const before = w.messages.length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => ctl!.cluster.write(pod(`burst-${i}`, { uid: `b${i}`, ip: `10.244.1.${100 + i}` }))));
    await until(() => new Set(names(w.messages.slice(before))).size === 20, 'all 20 pods');
    expect(w.messages.length - before).toBeLessThan(20);
  });
});
