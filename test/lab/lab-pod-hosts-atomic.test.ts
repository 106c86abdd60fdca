// Pins that a pod never reads its hosts file empty or half written while the kubelet replaces it, and
// sees each new version. Before, the kubelet rewrote /etc/netns/<pod>/hosts in place (the pod's
// /etc/hosts is a bind mount of that inode): a lookup landing between the truncate and the write found
// nothing and waited out the 5 s resolver timeout, stalling the pod's new connections. A temp file
// renamed over it would not help there (the bind mount keeps the old inode); the pod's /etc is now a
// directory mount, so the rename is what the pod sees. The reader runs in the pod (`inPod`, as `weft lab
// exec` and the kubelet start pod processes) and loops over /etc/hosts while it is replaced many times.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { labPaths, podNetns, type LabPaths } from '../../lab/names.js';
import { deleteNetns, ensureNetns } from '../../lab/netns.js';
import { hostRootMirror, inPod, podEtcDir, preparePodEtc, removePodEtc, writePodHosts } from '../../lab/pod-etc.js';
import { describeRoot } from '../support/root.js';

const VERSIONS = 400;

/** A self-checking hosts file: a reader can tell a whole version from an empty or partial one. */
function version(v: number): string {
  const n = 3 + (v % 40); // lengths vary, so a partial read cannot pass for a whole shorter one
  const lines = [`# v=${v} n=${n}`];
  for (let i = 0; i < n; i++) lines.push(`10.96.${v % 250}.${i}\tsvc-${i}.ns.svc.cluster.local`);
  if (v === VERSIONS) lines.push('10.96.7.7\tfinal-check.ns.svc.cluster.local');
  lines.push(`# end v=${v}`);
  return lines.join('\n') + '\n';
}

// Runs in the pod: reads /etc/hosts until it sees the last version (or a bound), reports what it saw.
const READER = `
const fs = require('node:fs');
const last = Number(process.argv[1]);
const deadline = Date.now() + 60000;
let reads = 0, badCount = 0, sawLast = false;
const bad = [], seen = new Set();
process.stdout.write('ready\\n');
while (Date.now() < deadline && reads < 5000000) {
  const t = fs.readFileSync('/etc/hosts', 'utf8');
  reads++;
  const m = /^# v=(\\d+) n=(\\d+)\\n/.exec(t);
  const extra = m && Number(m[1]) === last ? 1 : 0;
  if (!m || !t.endsWith('# end v=' + m[1] + '\\n') || t.split('\\n').length !== Number(m[2]) + 3 + extra) {
    badCount++;
    if (bad.length < 3) bad.push(JSON.stringify(t.slice(0, 60)) + ' (' + t.length + ' bytes)');
    continue;
  }
  seen.add(m[1]);
  if (Number(m[1]) === last) { sawLast = true; break; }
}
process.stdout.write(JSON.stringify({ reads, badCount, bad, versions: seen.size, sawLast }) + '\\n');
`;

describeRoot('pod hosts file: replaced atomically as the pod sees it (needs root: netns, mounts)', () => {
  const lab = `t${randomBytes(4).toString('hex')}`;
  const netns = podNetns(lab, 'default', 'reader');
  let stateRoot: string;
  let paths: LabPaths;
  let reader: ChildProcess | undefined;

  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'weft-thosts-'));
    paths = labPaths(lab, stateRoot);
    await ensureNetns(netns);
  });

  afterAll(async () => {
    if (reader?.pid !== undefined && reader.exitCode === null) reader.kill('SIGKILL');
    await deleteNetns(netns);
    if (!paths) return;
    await removePodEtc(paths, netns);
    // The mirror is only ever mounted inside pod mount namespaces; rmdir (not rm -r) so that a mount
    // that leaked here could never make the cleanup walk the host's file system.
    await rmdir(hostRootMirror(paths)).catch(() => undefined);
    if (!existsSync(hostRootMirror(paths))) await rm(stateRoot, { recursive: true, force: true });
  });

  it('a reader in the pod never sees it empty or partial, and sees the new versions', async () => {
    await preparePodEtc(paths, netns, version(0));
    const argv = inPod(paths, netns, [process.execPath, '-e', READER, String(VERSIONS)]);
    reader = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    reader.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    reader.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => reader!.once('close', resolve));
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (out.includes('ready\n')) resolve(true);
        };
        reader!.stdout!.on('data', check);
        check();
      }),
      exited.then(() => false),
    ]);
    expect(ready, `reader did not start: ${err}`).toBe(true);

    for (let v = 1; v <= VERSIONS; v++) {
      await writePodHosts(paths, netns, version(v));
      if (v % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    const code = await exited;
    expect(code, err).toBe(0);
    const report = JSON.parse(out.split('\n').filter(Boolean).at(-1)!) as { reads: number; badCount: number; bad: string[]; versions: number; sawLast: boolean };
    expect(report.badCount, `bad reads: ${report.bad.join(', ')}`).toBe(0);
    expect(report.sawLast, JSON.stringify(report)).toBe(true);
    expect(report.versions, JSON.stringify(report)).toBeGreaterThan(1);
  }, 90_000);

  it('glibc in the pod resolves from it, and the rest of the host\'s /etc is there', async () => {
    const hostsLookup = await run(inPod(paths, netns, ['getent', 'hosts', 'final-check.ns.svc.cluster.local']), { allowFailure: true });
    expect(hostsLookup.stdout, hostsLookup.stderr).toMatch(/^10\.96\.7\.7\s+final-check\.ns\.svc\.cluster\.local/);
    const passwd = await run(inPod(paths, netns, ['getent', 'passwd', 'root']), { allowFailure: true });
    expect(passwd.stdout, passwd.stderr).toMatch(/^root:/);
    if (existsSync('/etc/os-release')) {
      // A relative symlink on Debian (../usr/lib/os-release): it must still resolve through the mirror.
      const osRelease = await run(inPod(paths, netns, ['cat', '/etc/os-release']), { allowFailure: true });
      expect(osRelease.stdout).toBe(readFileSync('/etc/os-release', 'utf8'));
    }
    // Nothing of this is mounted in the host's namespace.
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    expect(mounts).not.toContain(hostRootMirror(paths));
    expect(mounts).not.toContain(podEtcDir(paths, netns));
  });
});
