// Pins the lab's lifecycle guarantees: `up` run again on a running lab changes nothing (same daemons,
// same links), two labs with different names coexist with the same addresses inside their own
// namespaces, and `down` after a crash (daemons killed, process records and lab.json gone) still finds
// and removes every namespace, process and file by prefix — without touching the other lab.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { listRecords, pidAlive, stopProcess } from '../../lab/processes.js';
import { startLab, type Lab } from '../support/lab.js';
import { describeRoot } from '../support/root.js';

const POD = `
apiVersion: v1
kind: Namespace
metadata: { name: life }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: life, labels: { app: web } }
spec:
  nodeName: n1
  containers:
    - name: echo
      image: weft/http-echo
      readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
`;

async function links(ns: string): Promise<string> {
  return (await run(['ip', '-n', ns, '-o', 'link', 'show'])).stdout.replace(/\s+/g, ' ');
}

describeRoot('weft lab lifecycle (needs root: network namespaces)', () => {
  let a: Lab;
  let b: Lab;

  beforeAll(async () => {
    a = await startLab({ nodes: 1, mesh: false });
    b = await startLab({ nodes: 1, mesh: false });
    await a.apply(POD);
    await b.apply(POD);
    await Promise.all([a.waitPodsReady({ minPods: 1 }), b.waitPodsReady({ minPods: 1 })]);
  });

  afterAll(async () => {
    await a?.down();
    await b?.down();
  });

  it('up twice is idempotent: same daemons, same links, same lab', async () => {
    const before = await listRecords(a.paths.procs);
    const linksBefore = await links(`weft-${a.name}-root`);
    await a.cli(['up', '--nodes', '1', '--no-mesh']);
    const after = await listRecords(a.paths.procs);
    const byId = (rs: typeof before): Record<string, number> => Object.fromEntries(rs.map((r) => [r.id, r.pid]));
    expect(byId(after)).toEqual(byId(before));
    expect(await links(`weft-${a.name}-root`)).toBe(linksBefore);
    expect((await a.status()).pods.map((p) => [p.name, p.ready])).toEqual([['web', true]]);
  });

  it('two labs coexist with the same pod address, each reachable inside its own lab', async () => {
    const [sa, sb] = [await a.status(), await b.status()];
    expect(sa.pods[0].ip).toBe(sb.pods[0].ip); // same ranges: isolated namespaces, nothing in the host's
    for (const lab of [a, b]) {
      // By address: pods have no DNS names of their own, only Services do.
      const r = await lab.exec('life/web', ['curl', '-sS', '-m', '10', `http://${sa.pods[0].ip}:8080/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ pod: 'web', namespace: 'life' });
    }
  });

  it('down after a crash finds everything by prefix and leaves the other lab alone', async () => {
    // Crash: kill every daemon of lab a, then lose its process records and lab.json.
    const records = await listRecords(a.paths.procs);
    for (const r of records.filter((x) => !x.id.startsWith('pod-'))) await stopProcess(r, 0);
    await rm(a.paths.procs, { recursive: true, force: true });
    await rm(a.paths.labFile, { force: true });
    const podPids = records.filter((x) => x.id.startsWith('pod-')).map((x) => x.pid);
    expect(podPids.length).toBe(1);

    const left = await a.down();
    expect(left).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
    for (const pid of podPids) expect(pidAlive(pid), `pod pid ${pid}`).toBe(false);

    const sb = await b.status();
    expect(sb.pods.map((p) => [p.name, p.ready])).toEqual([['web', true]]);
    const r = await b.exec('life/web', ['curl', '-sS', '-m', '10', 'http://127.0.0.1:8080/healthz']);
    expect(r.stdout).toBe('ok\n');
  });
});
