// Pins: the flags the chart passes are ones the processes accept (each parses its argv strictly, so an
// unknown flag would crash-loop the pod): weft-control's and install-cni's real parsers run on the
// rendered args; the node agent's args are checked against the options its top-level modules declare,
// and the host /proc env the chart sets against the name the agent reads.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseControlArgs } from '../../control/config.js';
import { parseInstallOptions } from '../../cni/install/options.js';
import { EXTERNAL_CA_VALUES, HA_VALUES, ROOT, cleanupHelmHome, describeHelm, find, render, type Rendered } from './chart.js';

interface Container {
  name: string;
  command: string[];
  args: string[];
}
function containers(o: Rendered): Container[] {
  return (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
}

describeHelm('process flags in the chart', () => {
  let sets: Rendered[][];
  beforeAll(async () => {
    sets = [await render(), await render(['--values', HA_VALUES, '--values', EXTERNAL_CA_VALUES])];
  });
  afterAll(cleanupHelmHome);

  it('weft-control accepts its args (kube source, namespace, trust domain, external CA files)', async () => {
    for (const objs of sets) {
      const [c] = containers(find(objs, 'Deployment', 'weft-control'));
      expect(c.command).toEqual(['node', 'dist/control/main.js']);
      const config = await parseControlArgs(c.args);
      expect(config.source).toEqual({ type: 'kube' });
      expect(config.namespace).toBe('weft-system');
      expect(config.listen).toBe('0.0.0.0:15012');
    }
    const [ext] = containers(find(sets[1], 'Deployment', 'weft-control'));
    const config = await parseControlArgs(ext.args);
    expect([config.caCert, config.caKey, config.trustDomain]).toEqual(['/etc/weft/external-ca/ca.crt', '/etc/weft/external-ca/ca.key', 'mesh.example.org']);
  });

  it('weft-control gets the leaf lifetime value: 24 h by default, the chart value otherwise', async () => {
    const [c] = containers(find(sets[0], 'Deployment', 'weft-control'));
    expect((await parseControlArgs(c.args, {})).leafLifetimeSeconds).toBe(86_400);
    const [set] = containers(find(await render(['--set', 'control.leafCertLifetimeSeconds=604800']), 'Deployment', 'weft-control'));
    expect((await parseControlArgs(set.args, {})).leafLifetimeSeconds).toBe(604_800);
  });

  it('install-cni accepts its args and gets the mounted CNI dirs and the agent socket', () => {
    const c = containers(find(sets[0], 'DaemonSet', 'weft-node-agent')).find((x) => x.name === 'install-cni')!;
    expect(c.command).toEqual(['node', 'dist/cni/install.js']);
    const o = parseInstallOptions(c.args, {});
    expect([o.binDir, o.confDir, o.socket]).toEqual(['/host/opt/cni/bin', '/host/etc/cni/net.d', '/var/run/weft/cni.sock']);
    expect(o.excludeNamespaces).toEqual(['kube-system', 'weft-system']);
    expect(o.keepOnExit).toBe(true);
  });

  it('the node agent declares every flag the chart passes', async () => {
    // The entry point may hand its argv to another top-level module (main.ts → agent.ts): read them all.
    const dir = join(ROOT, 'node-agent');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    const source = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    const declared = new Set([...source.matchAll(/\.option\('([a-z-]+)'/g)].map((m) => m[1] ?? ''));
    expect(declared.size).toBeGreaterThan(5);
    const c = containers(find(sets[0], 'DaemonSet', 'weft-node-agent')).find((x) => x.name === 'node-agent')!;
    const passed = c.args.map((a) => /^--([a-z-]+)=/.exec(a)?.[1]);
    expect(passed.every((p) => p !== undefined)).toBe(true);
    expect(passed.filter((p) => !declared.has(p ?? ''))).toEqual([]);
  });

  it('the node agent reads the host /proc env the chart sets', async () => {
    const config = await readFile(join(ROOT, 'node-agent', 'config.ts'), 'utf8');
    const c = containers(find(sets[0], 'DaemonSet', 'weft-node-agent')).find((x) => x.name === 'node-agent')! as Container & { env: { name: string }[] };
    expect(c.env.map((e) => e.name)).toContain('WEFT_HOST_PROC');
    expect(config).toMatch(/ENV_HOST_PROC = 'WEFT_HOST_PROC'/);
  });
});
