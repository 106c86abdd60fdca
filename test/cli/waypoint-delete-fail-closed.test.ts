// Pins that `weft waypoint delete` warns before it deletes a waypoint that AuthorizationPolicies with L7
// rules need: it names each (WEFT-C011, with the condition weft-control would then write), refuses with
// ERR_WEFT_CLI_WAYPOINT_NEEDED carrying the --force command, and deletes nothing; with --force it
// deletes and still warns. L4-only policies, and L7 ones served by another waypoint, do not stop it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waypointDeleteCommand } from '../../cli/commands/waypoint.js';
import { hasCode } from '../../lib/errors/index.js';
import { capture, tempLab, writeYaml } from './cluster-fixture.js';

const gateway = (name: string): unknown => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
const service = (name: string, labels: Record<string, string> = {}): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'demo', labels }, spec: { ports: [{ port: 80 }] } });
const policy = (name: string, target: string, rules: unknown[]): unknown => ({
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'demo' },
  spec: { action: 'DENY', targetRefs: [{ group: '', kind: 'Service', name: target }], rules },
});
const L7 = [{ to: [{ operation: { methods: ['POST'], paths: ['/admin*'] } }] }];
const L4 = [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/client'] } }] }];

describe('weft waypoint delete: policies that would fail closed', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  const file = (kind: string, name: string): string => join(lab.cluster, 'manifests', `${kind}.demo.${name}.yaml`);
  beforeEach(async () => {
    lab = await tempLab('t3');
    await writeYaml(join(lab.cluster, 'manifests', 'Namespace.demo.yaml'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'weft.dev/use-waypoint': 'waypoint' } } });
    await writeYaml(file('Gateway', 'waypoint'), gateway('waypoint'));
    await writeYaml(file('Gateway', 'other'), gateway('other'));
    await writeYaml(file('Service', 'web'), service('web'));
    await writeYaml(file('Service', 'api'), service('api', { 'weft.dev/use-waypoint': 'other' }));
    await writeYaml(file('AuthorizationPolicy', 'no-admin-posts'), policy('no-admin-posts', 'web', L7));
    await writeYaml(file('AuthorizationPolicy', 'l4-only'), policy('l4-only', 'web', L4));
    await writeYaml(file('AuthorizationPolicy', 'api-posts'), policy('api-posts', 'api', L7));
  });
  afterEach(() => lab.cleanup());

  it('refuses, naming the policy and the --force command, and deletes nothing', async () => {
    const c = capture();
    const err = await waypointDeleteCommand(lab.client, { namespace: 'demo', name: 'waypoint', force: false, output: 'table' }, c.printer).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NEEDED')).toBe(true);
    expect((err as Error).message).toContain('AuthorizationPolicy demo/no-admin-posts');
    expect((err as Error).message).toContain('to delete it anyway: weft waypoint delete -n demo --name waypoint --force --lab t3');
    expect(c.err).toEqual([expect.stringMatching(/^warning WEFT-C011 PolicyFailClosed: AuthorizationPolicy demo\/no-admin-posts would be enforced as DENY for all the traffic it selects: L7 rules .* none serves Service demo\/web/)]);
    expect(existsSync(file('Gateway', 'waypoint'))).toBe(true);
  });

  it('with --force it deletes, warns the same, and lists the policy in -o json', async () => {
    const c = capture();
    expect(await waypointDeleteCommand(lab.client, { namespace: 'demo', name: 'waypoint', force: true, output: 'json' }, c.printer)).toBe(0);
    expect(c.err).toHaveLength(1);
    expect(JSON.parse(c.out.join('\n'))).toEqual({ namespace: 'demo', name: 'waypoint', deleted: true, unenrolled: true, failClosed: ['demo/no-admin-posts'] });
    expect(existsSync(file('Gateway', 'waypoint'))).toBe(false);
  });

  it('a waypoint no L7 policy depends on alone is deleted without a warning', async () => {
    // With api-posts L4-only, no L7 rule depends on `other` (its L4 rules the node agents enforce anyway).
    await writeYaml(file('AuthorizationPolicy', 'api-posts'), policy('api-posts', 'api', L4));
    const c = capture();
    expect(await waypointDeleteCommand(lab.client, { namespace: 'demo', name: 'other', force: false, output: 'table' }, c.printer)).toBe(0);
    expect(c.err).toEqual([]);
    expect(c.out).toEqual(['waypoint demo/other deleted']);
  });
});
