// Pins that a Kubernetes component failing at `weft lab up` fails the command with ERR_WEFT_LAB_KUBE_
// START_FAILED naming the component and its log file, and that `weft lab down` then removes everything:
// the processes that did start (the lab's own and the control plane's), the namespaces and the state.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { labPaths } from '../../lab/names.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { leftovers } from '../../lab/teardown.js';
import { describeRootKube } from '../support/kube-tools.js';
import { CLI, uniqueLabName } from '../support/lab.js';

describeRootKube('weft lab up: a component that fails to start (root)', () => {
  const name = uniqueLabName();
  const paths = labPaths(name);

  afterAll(async () => {
    await run([process.execPath, CLI, 'lab', 'down', '--lab', name], { allowFailure: true, timeoutMs: 120_000 });
  }, 180_000);

  it('names the component and its log, and `down` removes what was started', async () => {
    // A regular file where etcd's data directory goes: etcd exits at once.
    await mkdir(join(paths.root, 'kube', 'etcd'), { recursive: true });
    await writeFile(join(paths.root, 'kube', 'etcd', 'data'), 'not a directory\n');

    const up = await run([process.execPath, CLI, 'lab', 'up', '--lab', name, '--nodes', '1', '--no-mesh'], { allowFailure: true, timeoutMs: 300_000 });
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('error ERR_WEFT_LAB_KUBE_START_FAILED: etcd did not start: exited with code');
    expect(up.stderr).toContain(`log: ${join(paths.logs, 'etcd.log')}`);
    expect(up.stderr).toContain('weft lab down');

    // The lab's own processes did start beside it; none of the control plane's is left running.
    const records = await listRecords(paths.procs);
    expect(records.map((r) => r.id)).toContain('kubelet-n1');
    expect(records.map((r) => r.id)).not.toContain('kube-apiserver');

    const down = await run([process.execPath, CLI, 'lab', 'down', '--lab', name], { timeoutMs: 120_000 });
    expect(down.stdout).toContain(`lab ${name} removed`);
    for (const r of records) expect(isAlive(r), r.id).toBe(false);
    expect(await leftovers(name)).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
  }, 420_000);
});
