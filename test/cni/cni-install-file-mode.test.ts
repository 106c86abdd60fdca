// Pins that install-cni keeps the mode and owner of every CNI config it rewrites: chaining, a daemon
// repair, a .conf converted to a .conflist, uninstall's restore and uninstall's unchain. A Calico conflist
// at 0600 (it can hold a token) used to come back 0644 after install, whatever its mode and the umask,
// and owned by install-cni's user. Each write replaces the file by rename (a new inode), never in place.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRoot } from '../support/root.js';
import { FIXTURES } from './fixtures.js';
import { INSTALL_JS, installArgs, nodeDirs, startInstall, waitFor, type NodeDirs } from './run-install.js';

const calico = FIXTURES.find((f) => f.name === '10-calico.conflist')!.text;
const bridgeConf = FIXTURES.find((f) => f.name === '10-bridge.conf')!.text;

/** install-cni under a given umask: a mode must survive a loose (022) and a tight (077) one, not by luck. */
function installUnderUmask(args: string[], umask = '022'): Promise<{ code: number | null; out: string }> {
  const child = spawn('/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, INSTALL_JS, ...args], { env: { PATH: process.env.PATH ?? '' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
  });
}

const modeOf = (path: string): number => statSync(path).mode & 0o7777;

function chained(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { plugins?: { type: string }[] }).plugins?.at(-1)?.type === 'weft-cni';
  } catch {
    return false;
  }
}

const made: NodeDirs[] = [];
afterAll(() => {
  for (const d of made) rmSync(d.root, { recursive: true, force: true });
});

function dirs(tag: string): NodeDirs {
  const d = nodeDirs(tag);
  made.push(d);
  return d;
}

describe('install-cni keeps the mode of the configs it rewrites', () => {
  it.each([
    ['0600', '022'],
    ['0600', '077'],
    ['0640', '077'],
    ['0644', '077'],
  ])('a conflist at %s keeps it through install and uninstall (umask %s)', async (octal, umask) => {
    const mode = parseInt(octal, 8);
    const d = dirs('mode');
    const conf = join(d.confDir, '10-calico.conflist');
    writeFileSync(conf, calico);
    chmodSync(conf, mode);
    const ino = statSync(conf).ino;

    const r = await installUnderUmask(installArgs(d, ['--once']), umask);
    expect(r.code, r.out).toBe(0);
    expect(chained(conf)).toBe(true);
    expect(modeOf(conf).toString(8)).toBe(mode.toString(8));
    expect(statSync(conf).ino, 'replaced by rename, not written in place').not.toBe(ino);

    const un = await installUnderUmask(installArgs(d, ['--uninstall']), umask);
    expect(un.code, un.out).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe(calico);
    expect(modeOf(conf).toString(8)).toBe(mode.toString(8));
    expect(readdirSync(d.confDir)).toEqual(['10-calico.conflist']); // no temp file left behind
  });

  it('a .conf converted to a .conflist keeps its mode, and uninstall restores the .conf with it', async () => {
    const d = dirs('mode-conf');
    const conf = join(d.confDir, '10-bridge.conf');
    writeFileSync(conf, bridgeConf);
    chmodSync(conf, 0o640);
    expect((await installUnderUmask(installArgs(d, ['--once']), '077')).code).toBe(0);
    expect(modeOf(join(d.confDir, '10-bridge.conflist')).toString(8)).toBe('640');
    expect((await installUnderUmask(installArgs(d, ['--uninstall']), '077')).code).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe(bridgeConf);
    expect(modeOf(conf).toString(8)).toBe('640');
  });

  it('uninstall that only removes the entry (the file changed since) keeps the mode', async () => {
    const d = dirs('mode-unchain');
    const conf = join(d.confDir, '10-calico.conflist');
    writeFileSync(conf, calico);
    chmodSync(conf, 0o600);
    expect((await installUnderUmask(installArgs(d, ['--once']))).code).toBe(0);
    const edited = JSON.parse(readFileSync(conf, 'utf8')) as { plugins: Record<string, unknown>[] };
    edited.plugins[0].mtu = 1400;
    writeFileSync(conf, JSON.stringify(edited)); // in place: keeps 0600
    expect((await installUnderUmask(installArgs(d, ['--uninstall']))).code).toBe(0);
    expect((JSON.parse(readFileSync(conf, 'utf8')) as { plugins: { type: string }[] }).plugins.map((p) => p.type)).toEqual(['calico', 'portmap', 'bandwidth']);
    expect(modeOf(conf).toString(8)).toBe('600');
  });

  it('the daemon keeps the mode when it repairs a file another writer rewrote', async () => {
    const d = dirs('mode-daemon');
    const conf = join(d.confDir, '10-calico.conflist');
    writeFileSync(conf, calico);
    chmodSync(conf, 0o600);
    const proc = startInstall(installArgs(d, ['--poll-ms', '200']));
    try {
      await waitFor('the first chaining', () => chained(conf));
      expect(modeOf(conf).toString(8)).toBe('600');
      // Calico's installer writes its config again, now at 0640.
      rmSync(conf);
      writeFileSync(conf, calico);
      chmodSync(conf, 0o640);
      await waitFor('the repair', () => chained(conf));
      expect(modeOf(conf).toString(8)).toBe('640');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.done;
    }
  });
});

describeRoot('install-cni keeps the owner of the configs it rewrites', () => {
  it('a conflist owned by another user and group keeps them through install and uninstall', async () => {
    const d = dirs('owner');
    const conf = join(d.confDir, '10-calico.conflist');
    writeFileSync(conf, calico);
    chmodSync(conf, 0o600);
    chownSync(conf, 4321, 8765);
    expect((await installUnderUmask(installArgs(d, ['--once']))).code).toBe(0);
    expect(chained(conf)).toBe(true);
    expect([statSync(conf).uid, statSync(conf).gid]).toEqual([4321, 8765]);
    expect(modeOf(conf).toString(8)).toBe('600');
    expect((await installUnderUmask(installArgs(d, ['--uninstall']))).code).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe(calico);
    expect([statSync(conf).uid, statSync(conf).gid]).toEqual([4321, 8765]);
    expect(modeOf(conf).toString(8)).toBe('600');
  });
});
