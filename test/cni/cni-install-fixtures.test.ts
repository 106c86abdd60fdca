// Pins install-cni end to end as a process, per real-CNI fixture: `--once` installs the plugin (an
// executable that answers VERSION) and chains the primary config; running it again changes nothing (same
// bytes, same inode); `--uninstall` puts the original bytes back — including a .conf that was converted
// to a .conflist — and removes the plugin and install-cni's state.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures.js';
import { installArgs, nodeDirs, runInstall, type NodeDirs } from './run-install.js';
import { runPlugin } from './run-plugin.js';

describe('install-cni on each fixture', () => {
  const made: NodeDirs[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d.root, { recursive: true, force: true });
  });

  it.each(FIXTURES.map((f) => [f.name, f.text] as const))('%s: chained, re-run is a no-op, uninstall restores the bytes', async (name, text) => {
    const d = nodeDirs('fixture');
    made.push(d);
    writeFileSync(join(d.confDir, name), text);
    // A later-sorting config that is not the primary must never be touched.
    const other = '{"cniVersion":"1.0.0","name":"zz","plugins":[{"type":"loopback"}]}';
    writeFileSync(join(d.confDir, '99-zz.conflist'), other);

    const first = await runInstall(installArgs(d, ['--once']));
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const chainedName = name.replace(/\.conf$/, '.conflist');
    expect(readdirSync(d.confDir).filter((n) => !n.startsWith('.')).sort()).toEqual([chainedName, '99-zz.conflist'].sort());
    const chained = readFileSync(join(d.confDir, chainedName), 'utf8');
    const plugins = (JSON.parse(chained) as { plugins: { type: string }[] }).plugins;
    expect(plugins.at(-1)?.type).toBe('weft-cni');
    expect(plugins.filter((p) => p.type === 'weft-cni')).toHaveLength(1);
    expect(readFileSync(join(d.confDir, '99-zz.conflist'), 'utf8')).toBe(other);

    const bin = join(d.binDir, 'weft-cni');
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const version = await runPlugin({ CNI_COMMAND: 'VERSION' }, '', { bin });
    expect(version.exitCode, version.stderr).toBe(0);
    expect(JSON.parse(version.stdout)).toHaveProperty('supportedVersions');

    const ino = statSync(join(d.confDir, chainedName)).ino;
    const second = await runInstall(installArgs(d, ['--once']));
    expect(second.code).toBe(0);
    expect(readFileSync(join(d.confDir, chainedName), 'utf8')).toBe(chained);
    expect(statSync(join(d.confDir, chainedName)).ino).toBe(ino); // not even rewritten

    const un = await runInstall(installArgs(d, ['--uninstall']));
    expect(un.code, un.stdout + un.stderr).toBe(0);
    expect(readdirSync(d.confDir).sort()).toEqual([name, '99-zz.conflist'].sort()); // no state or temp files left
    expect(readFileSync(join(d.confDir, name), 'utf8')).toBe(text);
    expect(existsSync(bin)).toBe(false);
  });

  it('uninstall after another writer changed the file removes only the weft entry', async () => {
    const d = nodeDirs('changed');
    made.push(d);
    const calico = FIXTURES.find((f) => f.name === '10-calico.conflist')!.text;
    writeFileSync(join(d.confDir, '10-calico.conflist'), calico);
    expect((await runInstall(installArgs(d, ['--once']))).code).toBe(0);
    // An operator edits the chained file by hand (keeps weft's entry, changes Calico's MTU).
    const edited = JSON.parse(readFileSync(join(d.confDir, '10-calico.conflist'), 'utf8')) as { plugins: Record<string, unknown>[] };
    edited.plugins[0].mtu = 1400;
    writeFileSync(join(d.confDir, '10-calico.conflist'), JSON.stringify(edited));
    expect((await runInstall(installArgs(d, ['--uninstall']))).code).toBe(0);
    const after = JSON.parse(readFileSync(join(d.confDir, '10-calico.conflist'), 'utf8')) as { plugins: Record<string, unknown>[] };
    expect(after.plugins.map((p) => p.type)).toEqual(['calico', 'portmap', 'bandwidth']);
    expect(after.plugins[0].mtu).toBe(1400);
  });

  it('--once with no config exits 4 after --wait-ms; options reach the entry', async () => {
    const d = nodeDirs('empty');
    made.push(d);
    const none = await runInstall(installArgs(d, ['--once', '--wait-ms', '300']));
    expect(none.code).toBe(4);
    expect(none.stdout).toContain('ERR_WEFT_CNI_INSTALL_NO_CONFIG');
    writeFileSync(join(d.confDir, '10-flannel.conflist'), FIXTURES.find((f) => f.name === '10-flannel.conflist')!.text);
    const r = await runInstall(installArgs(d, ['--once', '--socket', '/run/weft/x.sock', '--exclude-namespaces', 'a, b', '--agent-timeout-ms', '2500']));
    expect(r.code).toBe(0);
    const entry = (JSON.parse(readFileSync(join(d.confDir, '10-flannel.conflist'), 'utf8')) as { plugins: Record<string, unknown>[] }).plugins.at(-1);
    expect(entry).toEqual({ type: 'weft-cni', cni_socket: '/run/weft/x.sock', exclude_namespaces: ['a', 'b'], agent_timeout_ms: 2500 });
  });

  it('bad flags exit 2 with the usage text', async () => {
    const r = await runInstall(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cni-conf-dir');
  });
});
