// Pins: `weft waypoint apply` creates the Gateway of the contract (class weft-waypoint, listener mesh
// 15008/HBONE) and with --enroll-namespace labels the namespace; list/status read what the control plane
// reports; --wait succeeds once Programmed and times out with a clear error otherwise; delete removes the
// Gateway and the enrollment. Against the Kubernetes API and a lab directory alike.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyWaypoint, deleteWaypoint, listWaypoints, waypointApplyCommand, waypointStatusCommand } from '../../cli/commands/waypoint.js';
import type { ClusterClient } from '../../cli/kube/cluster-client.js';
import { hasCode } from '../../lib/errors/index.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { capture, kubeClient, tempLab, writeYaml } from './cluster-fixture.js';

const CONTRACT_SPEC = { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] };
const programmed = { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'Programmed', status: 'True', reason: 'Programmed', message: '' }], addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] };
const applyArgs = { namespace: 'demo', name: 'waypoint', for: 'service' as const, enrollNamespace: true, wait: false, timeout: 5, output: 'table' as const };

describe('weft waypoint against the Kubernetes API', () => {
  let api: KubeApiServerDouble;
  let client: ClusterClient;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    client = kubeClient(api);
  });
  afterEach(() => api.close());

  it('apply --enroll-namespace creates the contract Gateway by server-side apply and labels the namespace', async () => {
    const c = capture();
    expect(await waypointApplyCommand(client, applyArgs, c.printer)).toBe(0);
    const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io');
    expect(gw?.spec).toEqual(CONTRACT_SPEC);
    expect(gw?.metadata.labels).toEqual({ 'weft.dev/waypoint-for': 'service' });
    expect(api.requests.some((r) => r.method === 'PATCH' && r.query.fieldManager === 'weft')).toBe(true);
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
    expect(c.out.join('\n')).toContain('weft.dev/use-waypoint=waypoint');
  });

  it('list and status show what the control plane reported; status exits 1 until Programmed', async () => {
    await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service', enrollNamespace: true });
    api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'demo', labels: { 'weft.dev/use-waypoint': 'waypoint' } }, spec: {} });
    const c1 = capture();
    expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c1.printer)).toBe(1);
    expect(c1.out.join('\n')).toContain('no status yet');
    const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io')!;
    api.put({ ...gw, status: programmed });
    api.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'waypoint', namespace: 'demo', ownerReferences: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: gw.metadata.uid }] }, spec: { replicas: 1 }, status: { readyReplicas: 1 } });
    const c2 = capture();
    expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c2.printer)).toBe(0);
    expect(c2.out.join('\n')).toContain('deployment: waypoint 1/1 ready');
    expect(await listWaypoints(client, undefined)).toEqual([
      { namespace: 'demo', name: 'waypoint', for: 'service', programmed: 'True', reason: 'Programmed', addresses: ['10.96.0.20'], enrolled: ['namespace/demo', 'service/reviews'] },
    ]);
  });

  it('--wait returns once the control plane programs the Gateway', async () => {
    const controller = setInterval(() => {
      const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io');
      if (gw !== undefined && gw.status === undefined) api.put({ ...gw, status: programmed });
    }, 200);
    try {
      const c = capture();
      expect(await waypointApplyCommand(client, { ...applyArgs, wait: true, timeout: 20 }, c.printer)).toBe(0);
    } finally {
      clearInterval(controller);
    }
  });

  it('--wait gives up with ERR_WEFT_CLI_WAIT_TIMEOUT naming the state', async () => {
    const err = await waypointApplyCommand(client, { ...applyArgs, wait: true, timeout: 1 }, capture().printer).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_WAIT_TIMEOUT')).toBe(true);
    expect((err as Error).message).toContain('Programmed=Unknown');
  });

  it('delete removes the Gateway and the namespace enrollment that named it', async () => {
    await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service', enrollNamespace: true });
    expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
    expect(api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io')).toBeUndefined();
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels ?? {}).toEqual({});
    expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: false, unenrolled: false });
  });

  it('without Gateway API CRDs the error says to install them', async () => {
    const bare = await KubeApiServerDouble.start({ resources: [{ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }] });
    try {
      const err = await listWaypoints(kubeClient(bare), undefined).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_API_NOT_INSTALLED')).toBe(true);
      expect((err as { hint: string }).hint).toContain('Gateway API CRDs');
    } finally {
      await bare.close();
    }
  });
});

describe('weft waypoint against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
    // Namespace demo exists the lab way: something lives in it.
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.backend.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'demo' }, spec: { ports: [{ port: 8080 }] } });
  });
  afterEach(() => lab.cleanup());

  it('apply writes the Gateway and the enrolled Namespace into manifests/, status comes from status/', async () => {
    await waypointApplyCommand(lab.client, applyArgs, capture().printer);
    const gw = parse(await readFile(join(lab.cluster, 'manifests', 'Gateway.demo.waypoint.yaml'), 'utf8')) as { spec: unknown; metadata: { uid?: string } };
    expect(gw.spec).toEqual(CONTRACT_SPEC);
    expect(gw.metadata.uid).toBeDefined();
    const ns = parse(await readFile(join(lab.cluster, 'manifests', 'Namespace.demo.yaml'), 'utf8')) as { metadata: { labels: unknown } };
    expect(ns.metadata.labels).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
    // The lab's control plane writes status files; the CLI merges them.
    await writeYaml(join(lab.cluster, 'status', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, status: programmed });
    const list = await listWaypoints(lab.client, 'demo');
    expect(list.map((w) => [w.name, w.programmed, w.addresses[0], w.enrolled])).toEqual([['waypoint', 'True', '10.96.0.20', ['namespace/demo']]]);
    expect(await deleteWaypoint(lab.client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
    expect(await listWaypoints(lab.client, 'demo')).toEqual([]);
  });
});
