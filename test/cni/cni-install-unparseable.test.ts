// Pins that install-cni never corrupts a config it does not understand: a torn primary config stays
// byte-identical (legacy pre-0.3.0 .conf files are converted instead, see cni-install-legacy-conf), the
// problem is reported (ERR_WEFT_CNI_INSTALL_UNPARSEABLE in the log, exit 3 with --once), the daemon
// chains it as soon as the owner fixes it, and uninstall leaves it alone.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BROKEN, FIXTURES } from './fixtures.js';
import { installArgs, nodeDirs, runInstall, startInstall, waitFor, type NodeDirs } from './run-install.js';

describe('install-cni and configs it does not understand', () => {
  const made: NodeDirs[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d.root, { recursive: true, force: true });
  });

  it.each(BROKEN.map((b) => [b.name, b.text] as const))('%s: --once leaves it byte-identical and exits 3', async (name, text) => {
    const d = nodeDirs('broken');
    made.push(d);
    const path = join(d.confDir, name);
    writeFileSync(path, text);
    const mtime = statSync(path).mtimeMs;
    const r = await runInstall(installArgs(d, ['--once']));
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain('ERR_WEFT_CNI_INSTALL_UNPARSEABLE');
    expect(r.stdout).toContain(name);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(statSync(path).mtimeMs).toBe(mtime);
    const un = await runInstall(installArgs(d, ['--uninstall']));
    expect(un.code).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('the daemon reports a torn config once, then chains it when it is fixed', async () => {
    const d = nodeDirs('torn');
    made.push(d);
    const path = join(d.confDir, '10-calico.conflist');
    const torn = BROKEN.find((b) => b.name === '99-truncated.conflist')!.text;
    writeFileSync(path, torn);
    const proc = startInstall(installArgs(d, ['--poll-ms', '200']));
    try {
      await waitFor('the report', () => proc.output().includes('ERR_WEFT_CNI_INSTALL_UNPARSEABLE'));
      // Several polls later: still untouched and reported only once. install-cni is a separate process whose
      // polls leave no trace to wait for, so the elapsed time (5 polls of 200 ms) is the condition here.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(readFileSync(path, 'utf8')).toBe(torn);
      expect(proc.output().split('ERR_WEFT_CNI_INSTALL_UNPARSEABLE').length - 1).toBe(1);
      writeFileSync(path, FIXTURES.find((f) => f.name === '10-calico.conflist')!.text);
      await waitFor('chaining of the fixed file', () => readFileSync(path, 'utf8').includes('weft-cni'));
    } finally {
      proc.child.kill('SIGTERM');
      await proc.done;
    }
  });
});
