// Pins: `weft check` against a lab reads its cluster-state directory: pods not Ready and waypoints not
// Programmed fail with the lab command that shows why; status written by the control plane proves it runs.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../cli/commands/check.js';
import { capture, tempLab, writeYaml } from './cluster-fixture.js';

const pod = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'weft/http-echo' }] } });
const podStatus = (name: string, ready: 'True' | 'False'): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready }] } });

describe('weft check against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
  });
  afterEach(() => lab.cleanup());

  it('an empty lab passes with skips', async () => {
    const c = capture();
    expect(await checkCommand(lab.client, { pre: false, namespace: 'weft-system', output: 'table' }, c.printer)).toBe(0);
    expect(c.out[0]).toBe(`weft check against lab lab (${lab.cluster})`);
    expect(c.out[1]).toMatch(/^✔ lab: /);
  });

  it('a pod that is not Ready fails, naming it; a Programmed waypoint passes', async () => {
    await writeYaml(join(lab.cluster, 'pods', 'demo.a.yaml'), pod('a'));
    await writeYaml(join(lab.cluster, 'pods', 'demo.b.yaml'), pod('b'));
    await writeYaml(join(lab.cluster, 'status', 'Pod.demo.a.yaml'), podStatus('a', 'True'));
    await writeYaml(join(lab.cluster, 'status', 'Pod.demo.b.yaml'), podStatus('b', 'False'));
    await writeYaml(join(lab.cluster, 'manifests', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [] } });
    let results = Object.fromEntries((await runChecks(lab.client, { pre: false, namespace: 'weft-system' })).map((r) => [r.check, r]));
    expect(results.pods).toMatchObject({ status: 'fail', message: '1/2 not ready: demo/b' });
    expect(results.waypoints).toMatchObject({ status: 'fail' });
    expect(results['control plane']).toMatchObject({ status: 'warn' });
    await writeYaml(join(lab.cluster, 'status', 'Pod.demo.b.yaml'), podStatus('b', 'True'));
    await writeYaml(join(lab.cluster, 'status', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, status: { conditions: [{ type: 'Programmed', status: 'True' }] } });
    results = Object.fromEntries((await runChecks(lab.client, { pre: false, namespace: 'weft-system' })).map((r) => [r.check, r]));
    // No control-ca/ca.crt in this lab yet: the CA line is skipped.
    expect(Object.values(results).map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'skip']);
  });

  it('the lab\'s CA: valid passes; one that expires before a leaf lifetime (24 h) fails with its code', async () => {
    const { CertificateAuthority } = await import('../../lib/identity/index.js');
    const caDir = join(lab.cluster, '..', 'control-ca');
    await mkdir(caDir, { recursive: true });
    const caCheck = async () => (await runChecks(lab.client, { pre: false, namespace: 'weft-system' })).find((r) => r.check === 'CA certificates');
    await writeFile(join(caDir, 'ca.crt'), (await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })).certPem);
    expect(await caCheck()).toMatchObject({ status: 'ok' });
    await writeFile(join(caDir, 'ca.crt'), (await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 0.25 })).certPem);
    const r = await caCheck();
    expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C031', message: expect.stringContaining('less than one leaf lifetime (24 h)') as string });
    expect(r?.fix).toContain('sudo weft lab up --lab lab');
  });
});
