// Failure (issue 11): with `helm install -n mesh` the waypoints still dialled weft-control.weft-system.
// Pins: rendered into namespace mesh, the chart names no weft-system anywhere; node agents, the waypoint
// parameters and the control plane's own --namespace all point at mesh; and weft-control started with
// the rendered args writes weft-control.mesh.svc into a waypoint even where no parametersRef says so.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseControlArgs } from '../../control/config.js';
import { asKind } from '../../control/sources/schemas.js';
import { eventually } from '../support/eventually.js';
import { startDirControl, type DirControl } from '../control/control-process-fixture.js';
import { cleanupHelmHome, describeHelm, find, render, type Rendered } from './chart.js';

type Container = { name: string; args: string[] };
const containers = (o: Rendered): Container[] => (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;

describeHelm('the chart installed into another namespace (-n mesh)', () => {
  let objs: Rendered[];
  let control: DirControl | undefined;
  beforeAll(async () => {
    objs = await render(['--namespace', 'mesh']);
  });
  afterAll(async () => {
    await control?.proc.close();
    if (control) await rm(control.root, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  it('names no weft-system, and every control address is weft-control.mesh.svc:15012', () => {
    expect(stringify(objs)).not.toContain('weft-system');
    const agent = containers(find(objs, 'DaemonSet', 'weft-node-agent')).find((c) => c.name === 'node-agent')!;
    expect(agent.args).toContain('--control=weft-control.mesh.svc:15012');
    expect(find(objs, 'ConfigMap', 'weft-waypoint').data?.controlAddress).toBe('weft-control.mesh.svc:15012');
    expect((find(objs, 'GatewayClass', 'weft-waypoint').spec as { parametersRef: { namespace: string } }).parametersRef.namespace).toBe('mesh');
  });

  it('weft-control with the rendered args gives waypoints the control address of its namespace', async () => {
    const [c] = containers(find(objs, 'Deployment', 'weft-control'));
    const config = await parseControlArgs(c.args);
    expect(config.namespace).toBe('mesh');
    const gateway = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'wp', namespace: 'shop', uid: 'u1' },
      spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    };
    // Directory mode for the process, with the rendered control-plane flags that matter here; no GatewayClass.
    control = await startDirControl('weft-t-relns-', [gateway], { namespace: config.namespace, waypointReplicas: config.waypointReplicas });
    const deploy = await eventually(() => asKind(control!.proc.source.get({ kind: 'Deployment', namespace: 'shop', name: 'wp' }), 'Deployment'), 15_000, 'the waypoint Deployment');
    const args = deploy.spec.template.spec.containers?.[0]?.args ?? [];
    expect(args[args.indexOf('--control') + 1]).toBe('weft-control.mesh.svc:15012');
  });
});
