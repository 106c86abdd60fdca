// Pins waypoint readiness and high availability in a two-node lab (issue 13 items 4 and 5):
// (a) `weft waypoint apply --enroll-namespace --wait` returns only when a request through the waypoint
//     succeeds: a request sent the moment it returns gets 200, and so does a burst right after, three
//     times over (each time a new waypoint, deleted after). Before, the namespace was labelled first and
//     --wait trusted a Programmed that only meant "the Service has an IP": the first request failed.
// (b) a waypoint runs two replicas on different nodes; kill -9 of one under 200 new connections/s loses
//     only requests that were in flight through it (their bytes were sent: nothing can replay them), and
//     at most 3 requests started after the kill, because node agents tunnel to a ready replica, fail a
//     refused connect over to the other one, and drop the dead one when discovery does. Before, a single
//     replica's crash cost ~6 s of failed requests. On an idle machine a request lasts a few ms and the
//     in-flight count is 0-2; on a loaded 2-core machine requests queue for seconds and it reaches hundreds
//     (measured: 0-1 failed of 4 000 with 200-560 in flight at the kill when the killed replica carried
//     none, 159 failed of 429 in flight when it carried a third): so the bound is on requests in flight.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { startLoadgen, type LoadgenResult } from '../support/loadgen.js';
import { serviceAccount } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const RATE = 200;
const DURATION_S = 20;
/** Requests started after the kill that may still fail (a connection racing the kill on a dead session). */
const MAX_FAILED_NEW = 3;
/** Time the kill takes to reach the process (from `process.kill` on): a request started within it was in flight. */
const KILL_MS = 100;

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: ha, labels: { weft.dev/dataplane-mode: ambient } }
---
${serviceAccount('client', 'ha')}
${serviceAccount('echo', 'ha')}
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ha, labels: { app: client } }
spec:
  nodeName: n1
  serviceAccountName: client
  containers:
    - name: app
      image: weft/http-echo
      ports: [{ containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: echo, namespace: ha, labels: { app: echo } }
spec:
  nodeName: n2
  serviceAccountName: echo
  containers:
    - name: app
      image: weft/http-echo
      ports: [{ containerPort: 8080 }]
      env: [{ name: POD_NAME, value: echo }]
      readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ha }
spec:
  selector: { app: echo }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

describeRoot('waypoint readiness and replicas in the lab (needs root: network namespaces)', () => {
  let lab: Lab;

  const weft = (args: readonly string[]) => run([process.execPath, CLI, ...args, '--lab', lab.name], { timeoutMs: 300_000, allowFailure: true });
  /** One request from the client pod: status code and whether it went through a waypoint (XFCC). */
  const request = async (): Promise<{ code: string; viaWaypoint: boolean; stderr: string }> => {
    const r = await lab.exec('ha/client', ['curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', 'http://echo.ha/']);
    const nl = r.stdout.lastIndexOf('\n');
    let viaWaypoint = false;
    try {
      viaWaypoint = String((JSON.parse(r.stdout.slice(0, nl)) as { headers?: Record<string, string> }).headers?.['x-forwarded-client-cert'] ?? '').includes('spiffe://cluster.local/ns/ha/sa/client');
    } catch {
      // not an echo answer: the code says what happened
    }
    return { code: r.stdout.slice(nl + 1), viaWaypoint, stderr: r.stderr };
  };
  /** Diagnostics: the agents' non-ok access-log outcomes and warnings since `since`, counted. */
  const agentTrouble = async (since: number): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    const waypoints = (await replicas('wpha')).map((p) => `pod-ha.${p.name}-waypoint`);
    for (const node of ['agent-n1', 'agent-n2', ...waypoints]) {
      const text = await readFile(join(lab.paths.logs, `${node}.log`), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as { time: string; log?: string; level?: string | number; msg?: string; outcome?: string; reason?: string; err?: unknown; replica?: string };
        if (Date.parse(l.time) < since) continue;
        const trouble = l.log === 'access' ? l.outcome !== 'ok' : l.level !== 'info' && l.level !== 30 && l.level !== 'debug' && l.level !== 20;
        const evicted = l.msg === 'closed HBONE sessions to a waypoint replica that is no longer ready';
        if (!trouble && !evicted) continue;
        const k = `${node} ${l.time.slice(11, 21)} ${l.msg ?? ''} ${l.outcome ?? ''}: ${(l.reason ?? JSON.stringify(l.err ?? l.replica ?? '')).slice(0, 140)}`;
        out[k] = (out[k] ?? 0) + 1;
      }
    }
    return out;
  };
  const replicas = async (name: string) => (await lab.status()).pods.filter((p) => p.namespace === 'ha' && p.name.startsWith(`${name}-`));

  /** The load generator in the client pod, one connection per request. */
  const startLoad = (): Promise<LoadgenResult> =>
    startLoadgen(lab, 'ha', 'client', [
      '--target', 'http://echo.ha/', '--rate', String(RATE), '--duration', String(DURATION_S),
      '--timeout', '30', '--connect-timeout', '30', '--timeline', '--new-connections',
    ], (DURATION_S + 120) * 1000);

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 2, timeoutMs: 300_000 });
    // The mesh path works before any waypoint (direct HBONE), so failures below are the waypoint's.
    await eventually(async () => (await request()).code === '200', 60_000, 'echo.ha answers');
  }, 400_000);
  afterAll(async () => {
    await lab?.down();
  });

  it('apply --enroll-namespace --wait, then an immediate request succeeds: 3 times', async () => {
    for (const name of ['wp1', 'wp2', 'wp3']) {
      const applied = await weft(['waypoint', 'apply', '-n', 'ha', '--name', name, '--enroll-namespace', '--wait', '--timeout', '240']);
      expect(applied.code, applied.stderr).toBe(0);
      const first = await request();
      expect(first.code, `${name}: first request after --wait: ${first.stderr}`).toBe('200');
      // A burst right after: every request succeeds while the agents switch to the waypoint.
      for (let i = 0; i < 10; i++) expect((await request()).code, `${name}: request ${i + 2}`).toBe('200');
      // And the enrollment took effect: requests go through the waypoint now.
      await eventually(async () => (await request()).viaWaypoint, 30_000, `${name}: traffic through the waypoint`);
      const ready = await replicas(name);
      console.log(JSON.stringify({ name, firstViaWaypoint: first.viaWaypoint, replicas: ready.map((p) => `${p.name}@${p.node} ready=${p.ready}`) }));
      expect(ready.some((p) => p.ready)).toBe(true);

      const deleted = await weft(['waypoint', 'delete', '-n', 'ha', '--name', name]);
      expect(deleted.code, deleted.stderr).toBe(0);
      await eventually(async () => (await replicas(name)).length === 0, 120_000, `${name}: replicas removed`);
    }
  }, 900_000);

  it('kill -9 of one of two waypoint replicas under 200 new connections/s: only requests in flight fail', async () => {
    const applied = await weft(['waypoint', 'apply', '-n', 'ha', '--name', 'wpha', '--enroll-namespace', '--wait', '--timeout', '240']);
    expect(applied.code, applied.stderr).toBe(0);
    const both = await eventually(async () => {
      const r = await replicas('wpha');
      return r.length === 2 && r.every((p) => p.ready) ? r : undefined;
    }, 180_000, 'both waypoint replicas ready');
    expect(new Set(both.map((p) => p.node)).size, 'replicas spread over the two nodes').toBe(2);
    await eventually(async () => (await request()).viaWaypoint, 30_000, 'traffic through the waypoint');

    const load = startLoad();
    await sleep(6000); // places the kill inside the run (not a synchronisation)
    const victim = both[0];
    const rec = (await listRecords(lab.paths.procs)).find((x) => x.id === `pod-ha.${victim.name}-waypoint`);
    expect(rec && isAlive(rec), `process of ${victim.name}`).toBe(true);
    const killAt = Date.now();
    process.kill(rec!.pid, 'SIGKILL');
    const result = await load;

    const failed = result.requests.filter(([, , o]) => o !== 200);
    const inFlightAtKill = result.requests.filter(([start, end]) => start <= killAt + KILL_MS && end >= killAt).length;
    const failedNew = failed.filter(([start]) => start > killAt + KILL_MS);
    const summary = {
      sent: result.sent,
      ok: result.statuses['200'] ?? 0,
      failed: failed.length,
      failedStartedAfterKill: failedNew.length,
      errors: result.errors,
      inFlightAtKill,
      killed: `${victim.name}@${victim.node}`,
      failedSample: failed.slice(0, 10).map(([s, e, o]) => [Math.round(s - killAt), Math.round(e - killAt), o]),
    };
    console.log(JSON.stringify(summary));
    console.log(JSON.stringify({ killAt: new Date(killAt).toISOString(), agents: await agentTrouble(killAt - 1000), replicasAfter: await replicas('wpha') }, null, 1));
    expect(result.requests.length).toBe(result.sent);
    expect(result.sent).toBeGreaterThan(RATE * DURATION_S * 0.9);
    expect(result.requests.some(([s]) => s < killAt - 2000)).toBe(true);
    expect(result.requests.some(([s]) => s > killAt + 5000)).toBe(true);
    // Only requests in flight at the kill fail, and new ones (nearly) never: no window of failures while
    // discovery catches up.
    expect(failed.length, JSON.stringify(summary)).toBeLessThanOrEqual(inFlightAtKill + MAX_FAILED_NEW);
    expect(failedNew.length, JSON.stringify(summary)).toBeLessThanOrEqual(MAX_FAILED_NEW);
    for (const [start, end, o] of failed) expect(end - killAt, `request ${start}→${end} (${o}) failed long after the kill`).toBeLessThan(5000);
  }, 600_000);
});
