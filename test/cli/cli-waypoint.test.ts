// Pins: `weft waypoint apply` creates the Gateway of the contract (class weft-waypoint, listener mesh
// 15008/HBONE) and with --enroll-namespace labels the namespace only once the waypoint is ready (issue 13
// item 4: Programmed for the Gateway's current generation, which the control plane says only with a Ready
// replica known to the node agents); list/status read what the control plane reports; --wait returns
// only then and times out with ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing, enrolling nothing;
// delete removes the Gateway and the enrollment. Here against a lab directory; against a real API server:
// cli/on-kube/waypoint.ts, run by test/kube-api-server.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteWaypoint, listWaypoints, waypointApplyCommand } from '../../cli/commands/waypoint.js';
import { capture, tempLab, writeYaml } from './cluster-fixture.js';

const CONTRACT_SPEC = { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] };
const programmed = { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'Programmed', status: 'True', reason: 'Programmed', message: '' }], addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] };
const applyArgs = { namespace: 'demo', name: 'waypoint', for: 'service' as const, enrollNamespace: true, wait: false, timeout: 5, output: 'table' as const, intervalMs: 50 };
describe('weft waypoint against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
    // Namespace demo exists the lab way: something lives in it.
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.backend.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'demo' }, spec: { ports: [{ port: 8080 }] } });
  });
  afterEach(() => lab.cleanup());

  it('apply writes the Gateway and the enrolled Namespace into manifests/, status comes from status/', async () => {
    // The lab's control plane writes status files; the CLI merges them (here: at once, ready).
    await writeYaml(join(lab.cluster, 'status', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, status: programmed });
    await waypointApplyCommand(lab.client, applyArgs, capture().printer);
    const gw = parse(await readFile(join(lab.cluster, 'manifests', 'Gateway.demo.waypoint.yaml'), 'utf8')) as { spec: unknown; metadata: { uid?: string } };
    expect(gw.spec).toEqual(CONTRACT_SPEC);
    expect(gw.metadata.uid).toBeDefined();
    const ns = parse(await readFile(join(lab.cluster, 'manifests', 'Namespace.demo.yaml'), 'utf8')) as { metadata: { labels: unknown } };
    expect(ns.metadata.labels).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
    const list = await listWaypoints(lab.client, 'demo');
    expect(list.map((w) => [w.name, w.programmed, w.addresses[0], w.enrolled])).toEqual([['waypoint', 'True', '10.96.0.20', ['namespace/demo']]]);
    expect(await deleteWaypoint(lab.client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
    expect(await listWaypoints(lab.client, 'demo')).toEqual([]);
  });
});
