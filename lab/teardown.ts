import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './command.js';
import { etcNetnsDir, labPaths, labPrefix, type LabPaths } from './names.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import { hostRootMirror } from './pod-etc.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { forgetRecord, listRecords, pidAlive, stopProcess } from './processes.js';

/**
 * `weft lab down`: removes everything a lab made, found from its name alone so that it also works after
 * a crash of `up` left no state: recorded processes (by pid + start time), any process still living in
 * one of the lab's namespaces, the namespaces themselves (which takes every link inside them), leftover
 * mounts, /etc/netns/<prefix>* and the state directory (with the pods' host-root mirror beside it).
 */
export interface TeardownReport {
  processes: number;
  namespaces: string[];
  etcDirs: string[];
  mounts: string[];
  stateDir: boolean;
}

/** The kubelets go first: they would restart the pods' processes we stop. */
function order(id: string): number {
  if (id.startsWith('kubelet-')) return 0;
  if (id.startsWith('pod-')) return 1;
  return 2;
}

export async function teardownLab(lab: string, stateRoot?: string): Promise<TeardownReport> {
  const paths: LabPaths = labPaths(lab, stateRoot);
  const prefix = labPrefix(lab);
  const report: TeardownReport = { processes: 0, namespaces: [], etcDirs: [], mounts: [], stateDir: false };

  const records = await listRecords(paths.procs);
  for (const phase of [0, 1, 2]) {
    const batch = records.filter((r) => order(r.id) === phase);
    await Promise.all(batch.map((r) => stopProcess(r, 3000)));
    report.processes += batch.length;
    for (const r of batch) await forgetRecord(paths.procs, r.id);
  }

  // Whatever still lives in one of the lab's namespaces was started by the lab (e.g. pods of a kubelet
  // that crashed and lost its records): kill it and wait until it is gone.
  const namespaces = await listNetns(prefix);
  const swept: number[] = [];
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      if (pid === process.pid || !pidAlive(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        swept.push(pid);
      } catch {
        // gone already
      }
    }
  }
  report.processes += swept.length;
  for (let i = 0; i < 100 && swept.some(pidAlive); i++) await sleep(20);
  // Pods first, then nodes, then root: links inside go with their namespace.
  const rank = (ns: string): number => (ns.startsWith(`${prefix}p-`) ? 0 : ns === `${prefix}root` ? 2 : 1);
  for (const ns of [...namespaces].sort((a, b) => rank(a) - rank(b))) {
    await deleteNetns(ns);
    report.namespaces.push(ns);
  }

  for (const mount of await leftoverMounts(prefix, paths.root)) {
    await run(['umount', '-l', mount], { allowFailure: true });
    report.mounts.push(mount);
  }
  for (const ns of [...namespaces].filter(Boolean)) await rm(join('/run/netns', ns), { force: true });

  for (const dir of await readdir('/etc/netns').catch(() => [] as string[])) {
    if (!dir.startsWith(prefix)) continue;
    await rm(etcNetnsDir(dir), { recursive: true, force: true });
    report.etcDirs.push(dir);
  }
  try {
    await rm(paths.root, { recursive: true });
    report.stateDir = true;
  } catch {
    report.stateDir = false;
  }
  // Empty in this namespace (pods mount over it in theirs, and they are gone): rmdir, never rm -r.
  await rmdir(hostRootMirror(paths)).catch(() => undefined);
  return report;
}

/** Mount points under /run/netns/<prefix>* or the lab's state dir that are still mounted. */
async function leftoverMounts(prefix: string, stateDir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const target = line.split(' ')[1];
    if (!target) continue;
    const t = target.replace(/\\040/g, ' ');
    if (t.startsWith(`/run/netns/${prefix}`) || t.startsWith(`/var/run/netns/${prefix}`) || t.startsWith(`${stateDir}/`) || t === stateDir) out.push(t);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** What a lab left behind, for tests and `down`'s own check: namespaces, /etc/netns dirs, state. */
export async function leftovers(lab: string, stateRoot?: string): Promise<{ namespaces: string[]; etcDirs: string[]; stateDir: boolean; mounts: string[] }> {
  const prefix = labPrefix(lab);
  const paths = labPaths(lab, stateRoot);
  const etc = (await readdir('/etc/netns').catch(() => [] as string[])).filter((d) => d.startsWith(prefix));
  const stateDir = existsSync(paths.root) || existsSync(hostRootMirror(paths));
  return { namespaces: await listNetns(prefix), etcDirs: etc, stateDir, mounts: await leftoverMounts(prefix, paths.root) };
}
