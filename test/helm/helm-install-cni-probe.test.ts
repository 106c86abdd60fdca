// Pins the install-cni readiness probe as rendered by the chart, run by sh against a real conf dir: not
// ready without weft-cni in a conflist, ready once chained, and not ready while install-cni's status file
// says another writer keeps removing it ("contested"), printing that status (hint included) so
// `kubectl describe pod` says why. `weft check` reports this readiness as "CNI chained"; before, a node
// whose conflist Cilium kept reverting looked chained most of the time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupHelmHome, describeHelm, find, render } from './chart.js';

interface Container {
  name: string;
  readinessProbe?: { exec?: { command: string[] } };
}

describeHelm('install-cni readiness probe', () => {
  let probe: string[] = [];
  let dir = '';
  beforeAll(async () => {
    const ds = find(await render(), 'DaemonSet', 'weft-node-agent');
    const containers = (ds.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
    const command = containers.find((c) => c.name === 'install-cni')?.readinessProbe?.exec?.command ?? [];
    dir = mkdtempSync(join(tmpdir(), 'weft-tprobe-'));
    probe = command.map((part) => part.replaceAll('/host/etc/cni/net.d', dir));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  const run = (): { ready: boolean; output: string } => {
    const r = spawnSync(probe[0], probe.slice(1), { encoding: 'utf8', timeout: 10_000 });
    return { ready: r.status === 0, output: r.stdout };
  };

  it('follows the conflist and the status file', () => {
    expect(probe[0]).toBe('sh');
    expect(run().ready).toBe(false);
    writeFileSync(join(dir, '05-cilium.conflist'), '{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni"},{"type":"weft-cni"}]}\n');
    expect(run().ready).toBe(true);
    writeFileSync(join(dir, '.weft-cni-install.status'), JSON.stringify({ state: 'chained', file: '05-cilium.conflist', since: 'x' }) + '\n');
    expect(run().ready).toBe(true);
    const contested = { state: 'contested', file: '05-cilium.conflist', reverts: 4, code: 'ERR_WEFT_CNI_INSTALL_CONTESTED', hint: 'set cni.exclusive=false', since: 'x' };
    writeFileSync(join(dir, '.weft-cni-install.status'), JSON.stringify(contested) + '\n');
    const r = run();
    expect(r.ready).toBe(false);
    expect(r.output).toContain('cni.exclusive=false');
  });
});
