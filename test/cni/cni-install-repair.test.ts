// Pins install-cni as the long-running DaemonSet container: it waits for the primary CNI to write its
// config, chains weft-cni, and when another writer rewrites the file without weft (Calico's installer
// re-rendering its conflist, by rename or in place) it chains it again; a removed plugin binary comes
// back; a --ready-file exists exactly while chained; on SIGTERM it restores the other writer's latest bytes, removes the plugin and exits 0.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures.js';
import { installArgs, nodeDirs, startInstall, waitFor, type NodeDirs } from './run-install.js';

function chained(path: string): boolean {
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { plugins?: { type: string }[] };
    return doc.plugins?.filter((p) => p.type === 'weft-cni').length === 1 && doc.plugins.at(-1)?.type === 'weft-cni';
  } catch {
    return false;
  }
}

describe('install-cni keeps weft-cni chained', () => {
  const made: NodeDirs[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d.root, { recursive: true, force: true });
  });

  it('waits for a config, repairs rewrites, reinstalls the binary, and uninstalls on SIGTERM', async () => {
    const d = nodeDirs('repair');
    made.push(d);
    // Poll slowly so that the repairs below are driven by the directory watch, with the poll as backstop.
    const ready = join(d.root, 'ready');
    const proc = startInstall(installArgs(d, ['--poll-ms', '2000', '--ready-file', ready]));
    try {
      const bin = join(d.binDir, 'weft-cni');
      await waitFor('the plugin binary', () => existsSync(bin));
      await waitFor('the "no config yet" report', () => proc.output().includes('"status":"no-config"'));
      expect(existsSync(ready)).toBe(false);

      const conf = join(d.confDir, '10-calico.conflist');
      const calico = FIXTURES.find((f) => f.name === '10-calico.conflist')!.text;
      writeFileSync(conf, calico);
      await waitFor('the first chaining', () => chained(conf));
      await waitFor('readiness', () => existsSync(ready));

      // Calico's installer renders its config again (atomic rename, different MTU): weft is gone.
      const rerendered = calico.replace('"mtu": 0', '"mtu": 1440');
      writeFileSync(join(d.confDir, '.calico-tmp'), rerendered);
      renameSync(join(d.confDir, '.calico-tmp'), conf);
      await waitFor('the repair after a rename', () => chained(conf));
      expect(readFileSync(conf, 'utf8')).toContain('"mtu": 1440');

      // ... and once more, written in place.
      writeFileSync(conf, calico);
      await waitFor('the repair after an in-place write', () => chained(conf) && !readFileSync(conf, 'utf8').includes('1440'));

      unlinkSync(bin);
      await waitFor('the plugin binary to come back', () => existsSync(bin), 15_000);

      proc.child.kill('SIGTERM');
      const end = await proc.done;
      expect(end.code, end.stdout + end.stderr).toBe(0);
      // The last original was the in-place write of the fixture: its exact bytes are back.
      expect(readFileSync(conf, 'utf8')).toBe(calico);
      expect(existsSync(bin)).toBe(false);
      expect(existsSync(ready)).toBe(false);
      expect(readdirSync(d.confDir)).toEqual(['10-calico.conflist']);
      expect(end.stdout).toContain('removed weft-cni from this node');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('--keep-on-exit leaves weft chained when stopped', async () => {
    const d = nodeDirs('keep');
    made.push(d);
    const conf = join(d.confDir, '10-flannel.conflist');
    writeFileSync(conf, FIXTURES.find((f) => f.name === '10-flannel.conflist')!.text);
    const proc = startInstall(installArgs(d, ['--keep-on-exit']));
    try {
      await waitFor('chaining', () => chained(conf));
      proc.child.kill('SIGTERM');
      expect((await proc.done).code).toBe(0);
      expect(chained(conf)).toBe(true);
      expect(existsSync(join(d.binDir, 'weft-cni'))).toBe(true);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});
