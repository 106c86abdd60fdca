// Pins that install-cni chains weft-cni into a single-plugin `.conf` from before chaining existed
// (cniVersion 0.1.0, 0.2.0, or none, which libcni reads as 0.1.0): it becomes a `.conflist` at 0.3.0, the
// first chainable version, keeping the network's `name` and the plugin's fields, with a warning that names
// the upgrade; weft-cni accepts its entry there; uninstall puts the original `.conf` back byte for byte.
// Such configs used to be refused as unparseable, so pods on those nodes started without capture.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chainWeft } from '../../cni/install/conflist.js';
import { LEGACY } from './fixtures.js';
import { installArgs, nodeDirs, runInstall, type NodeDirs } from './run-install.js';
import { podEnv, runPlugin } from './run-plugin.js';

const opts = { cniSocket: '/var/run/weft/cni.sock', excludeNamespaces: ['kube-system', 'weft-system'] };

interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

describe('legacy .conf files are converted, not refused', () => {
  const made: NodeDirs[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d.root, { recursive: true, force: true });
  });

  it('has a 0.1.0, a 0.2.0 and an unversioned .conf among the fixtures', () => {
    const versions = LEGACY.map((f) => (JSON.parse(f.text) as { cniVersion?: string }).cniVersion);
    expect(versions.sort()).toEqual(['0.1.0', '0.2.0', undefined]);
  });

  it.each(LEGACY.map((f) => [f.name, f.text] as const))('%s: chainWeft makes a 0.3.0 conflist that keeps name and plugin', (name, text) => {
    const before = JSON.parse(text) as Record<string, unknown>;
    const out = chainWeft(text, { ...opts, file: name });
    expect(out.changed).toBe(true);
    expect(out.converted).toBe(true);
    expect(out.upgradedFrom).toBe(typeof before.cniVersion === 'string' ? before.cniVersion : 'none');
    const list = JSON.parse(out.text) as Conflist;
    expect(list.cniVersion).toBe('0.3.0');
    expect(list.name).toBe(before.name);
    // The runtime gives each plugin the list's version; a stale one inside the entry would only mislead.
    const { cniVersion: _old, ...plugin } = before;
    expect(list.plugins).toEqual([plugin, { type: 'weft-cni', cni_socket: opts.cniSocket, exclude_namespaces: opts.excludeNamespaces }]);
    expect(chainWeft(out.text, { ...opts, file: name.replace(/\.conf$/, '.conflist') }).changed).toBe(false);
  });

  it.each(LEGACY.map((f) => [f.name, f.text] as const))('%s: install-cni converts it, weft-cni runs in it, uninstall restores the .conf', async (name, text) => {
    const d = nodeDirs('legacy');
    made.push(d);
    writeFileSync(join(d.confDir, name), text);
    const r = await runInstall(installArgs(d, ['--once']));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const listName = name.replace(/\.conf$/, '.conflist');
    expect(readdirSync(d.confDir).filter((n) => !n.startsWith('.'))).toEqual([listName]);
    const list = JSON.parse(readFileSync(join(d.confDir, listName), 'utf8')) as Conflist;
    expect(list.cniVersion).toBe('0.3.0');
    expect(list.plugins.at(-1)?.type).toBe('weft-cni');
    const warning = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: string; msg: string; upgradedFrom?: string })
      .find((l) => l.upgradedFrom !== undefined);
    expect(warning?.level).toBe('warn');
    expect(warning?.msg).toContain('0.3.0');

    // The weft entry, as a runtime hands it over from this list (its name and version, a 0.3.0 result),
    // is accepted by the plugin (an excluded namespace: no agent needed to show that).
    const prevResult = { cniVersion: '0.3.0', interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/p' }], ips: [{ version: '4', interface: 0, address: '10.22.0.5/16' }] };
    const stdin = JSON.stringify({ ...list.plugins.at(-1), cniVersion: list.cniVersion, name: list.name, prevResult });
    const add = await runPlugin(podEnv('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=dns' }), stdin);
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toEqual(prevResult);

    const un = await runInstall(installArgs(d, ['--uninstall']));
    expect(un.code, un.stdout + un.stderr).toBe(0);
    expect(readdirSync(d.confDir)).toEqual([name]);
    expect(readFileSync(join(d.confDir, name), 'utf8')).toBe(text);
    expect(existsSync(join(d.confDir, listName))).toBe(false);
  });

  it('a .conf at a version that is neither legacy nor supported is still refused', () => {
    expect(() => chainWeft('{"cniVersion":"0.5.0","name":"x","type":"bridge"}', opts)).toThrow(/0\.5\.0/);
  });
});
