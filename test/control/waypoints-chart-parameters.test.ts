// Failure (issue 11): waypoint Deployments got the image `weft/waypoint` (docker.io/weft/waypoint:latest)
// and dialled weft-control.weft-system whatever the release namespace, because nothing read the chart's
// ConfigMap weft-waypoint that GatewayClass weft-waypoint names as its parametersRef. Pins: the
// GatewayClass and ConfigMap exactly as `helm template -n mesh` renders them drive the generated objects
// (image and tag, pull policy, pull secrets, log level, control address, replicas, resources, securityContexts,
// disruption budget); a changed ConfigMap rolls them; a parametersRef that cannot be used leaves running
// waypoints alone and says why in the GatewayClass's and the Gateway's status.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlwaysLeader } from '../../control/leader.js';
import { DirectorySource } from '../../control/sources/files.js';
import { asKind } from '../../control/sources/schemas.js';
import { WaypointController } from '../../control/waypoints/controller.js';
import { eventually } from '../support/eventually.js';
import { cleanupHelmHome, describeHelm, find, render, type Rendered } from '../helm/chart.js';

const GATEWAY = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'wp', namespace: 'shop', uid: 'gw-uid-1' },
  spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
};

describeHelm('waypoint Deployments from the chart\'s GatewayClass parameters', () => {
  let dir: string;
  let source: DirectorySource;
  let controller: WaypointController;
  let configMap: Rendered;
  let gatewayClass: Rendered;
  const manifest = (name: string, o: unknown) => writeFile(path.join(dir, 'manifests', `${name}.yaml`), stringify(o));
  const deployment = () => asKind(source.get({ kind: 'Deployment', namespace: 'shop', name: 'wp' }), 'Deployment');
  const container = () => deployment()?.spec.template.spec.containers?.[0] as (Record<string, unknown> & { image?: string; args?: string[] }) | undefined;

  beforeAll(async () => {
    const objs = await render([
      '--namespace', 'mesh',
      '--set', 'image.tag=9.9.9',
      '--set', 'image.pullPolicy=Always',
      '--set', 'logLevel=debug',
      '--set', 'waypoint.replicas=3',
      '--set', 'waypoint.resources.limits.memory=1Gi',
      '--set', 'waypoint.podDisruptionBudget.maxUnavailable=50%',
      '--set', 'imagePullSecrets[0]=regcred',
      '--set', 'imagePullSecrets[1].name=mirror-cred',
    ]);
    configMap = find(objs, 'ConfigMap', 'weft-waypoint');
    gatewayClass = find(objs, 'GatewayClass', 'weft-waypoint');
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-wpparams-'));
    await mkdir(path.join(dir, 'manifests'));
    await manifest('gw', GATEWAY);
    await manifest('gc', gatewayClass);
    await manifest('cm', configMap);
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    await source.start();
    const leader = new AlwaysLeader();
    // No controlAddress option: the parameters (or, without them, the control namespace) decide it.
    controller = new WaypointController({ source, leader, controlNamespace: 'mesh', debounceMs: 10 });
    controller.start();
    leader.start();
  }, 60_000);

  afterAll(async () => {
    await controller?.stop();
    await source?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  it('builds the Deployment and its PodDisruptionBudget from the rendered ConfigMap', async () => {
    await eventually(() => deployment(), 15_000, 'the waypoint Deployment');
    const c = container()!;
    expect(c.image).toBe('ghcr.io/weft-mesh/weft:9.9.9');
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.args?.slice(0, 4)).toEqual(['--gateway', 'shop/wp', '--control', 'weft-control.mesh.svc:15012']);
    expect(c.args?.slice(-2)).toEqual(['--log-level', 'debug']);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const pod = deployment()!.spec.template.spec as Record<string, unknown>;
    // The chart's pull secrets reach the waypoint pods too (plain names and {name} objects alike).
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'mirror-cred' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(deployment()!.spec.replicas).toBe(3);
    const pdb = await eventually(() => source.get({ kind: 'PodDisruptionBudget', namespace: 'shop', name: 'wp' }), 15_000, 'the PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: '50%', selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'wp' } } });
    const accepted = () => asKind(source.get({ kind: 'GatewayClass', name: 'weft-waypoint' }), 'GatewayClass')?.status?.conditions?.find((x) => x.type === 'Accepted');
    await eventually(() => accepted()?.status === 'True', 15_000, 'the class accepted');
  });

  it('rolls the waypoints when the ConfigMap changes', async () => {
    await manifest('cm', { ...configMap, data: { ...configMap.data, replicas: '4', image: 'registry.example.org/weft:1.2.3' } });
    await eventually(() => deployment()?.spec.replicas === 4, 15_000, 'replicas from the changed ConfigMap');
    expect(container()?.image).toBe('registry.example.org/weft:1.2.3');
  });

  it('leaves the waypoints alone and reports InvalidParameters when the parametersRef cannot be used', async () => {
    const before = deployment();
    const spec = gatewayClass.spec as { parametersRef: Record<string, string> };
    await manifest('gc', { ...gatewayClass, spec: { ...spec, parametersRef: { ...spec.parametersRef, name: 'missing' } } });
    const accepted = () => asKind(source.get({ kind: 'GatewayClass', name: 'weft-waypoint' }), 'GatewayClass')?.status?.conditions?.find((x) => x.type === 'Accepted');
    await eventually(() => accepted()?.reason === 'InvalidParameters', 15_000, 'InvalidParameters on the class');
    expect(accepted()).toMatchObject({ status: 'False', message: 'ConfigMap mesh/missing (spec.parametersRef) not found' });
    const programmed = asKind(source.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.status?.conditions?.find((x) => x.type === 'Programmed');
    expect(programmed).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(programmed?.message).toContain('ConfigMap mesh/missing (spec.parametersRef) not found');
    expect(deployment()).toEqual(before);

    // A ConfigMap in another namespace is not one the control plane reads: said so, not silently ignored.
    await manifest('gc', { ...gatewayClass, spec: { ...spec, parametersRef: { ...spec.parametersRef, namespace: 'elsewhere' } } });
    await eventually(() => accepted()?.message?.includes("in the control plane's namespace mesh, not elsewhere"), 15_000, 'the namespace refused');
    expect(deployment()).toEqual(before);
  });

  it('refuses a pull secret that is not a Secret name, naming the key', async () => {
    const spec = gatewayClass.spec as { parametersRef: Record<string, string> };
    await manifest('gc', gatewayClass);
    await manifest('cm', { ...configMap, data: { ...configMap.data, 'imagePullSecrets.json': '[{"name":"Not_A_Name"}]' } });
    const accepted = () => asKind(source.get({ kind: 'GatewayClass', name: 'weft-waypoint' }), 'GatewayClass')?.status?.conditions?.find((x) => x.type === 'Accepted');
    await eventually(() => accepted()?.message?.includes('imagePullSecrets'), 15_000, 'the pull secret refused');
    expect(accepted()?.reason).toBe('InvalidParameters');
    expect(accepted()?.message).toBe(`ConfigMap mesh/${spec.parametersRef.name}: data[imagePullSecrets.json]: 0.name: must be a Secret name (lower-case DNS subdomain)`);
  });
});
