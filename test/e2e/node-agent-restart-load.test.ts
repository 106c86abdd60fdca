// Pins the node agent's restart under load in a two-node lab: a captured client on n1 drives 200
// requests/s at a captured HTTP echo Service on n2 while one node's agent is killed with SIGKILL and
// started again (as `lab up` / a DaemonSet does). The restarted agent must re-capture every pod from its
// state file without any CNI call, and the load generator may only lose the requests that were on
// connections open at the kill: those fail between the kill and the new agent's readiness + 1 s, and
// successes resume within 1 s of readiness. Connections opened while no agent runs wait (their SYNs are
// held, then the connections are held until ready) instead of being refused or sent in plaintext.
// Last: with the state file lost, the agent finds the running pods' netns in the host procfs.
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { startNodeAgent } from '../../lab/mesh.js';
import { nodeNetns } from '../../lab/names.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { startLab, type Lab } from '../support/lab.js';
import { ambientNamespace, echoPod, httpService, startLoad as startMeshLoad, type LoadResult } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const RATE = 200;
const DURATION_S = 30;
/** Connections that die at the kill may each lose the request on them; a few more race the close. */
const MARGIN = 3;

const MANIFESTS = `${ambientNamespace('mesh')}
${echoPod('client', 'mesh', 'n1', 'sa-client')}
${echoPod('c', 'mesh', 'n1', 'sa-c')}
${echoPod('b', 'mesh', 'n2', 'sa-b')}
${httpService('echo', 'mesh', 'b')}`;

/** Captured pods per node (what a restarted agent must restore). */
const PODS: Record<string, string[]> = { n1: ['c', 'client'], n2: ['b'] };

interface LogLine {
  pid: number;
  time: string;
  msg: string;
  [k: string]: unknown;
}

describeRoot('node agent restart under 200 requests/s (needs root: network namespaces)', () => {
  let lab: Lab;

  const agentLog = async (node: string): Promise<LogLine[]> =>
    (await readFile(join(lab.paths.logs, `agent-${node}.log`), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const cniLogSize = async (node: string): Promise<number> => {
    const f = join(lab.paths.logs, `weft-cni-${node}.log`);
    return existsSync(f) ? (await stat(f)).size : 0;
  };
  const inNode = (node: string, argv: string[]) => run(['ip', 'netns', 'exec', nodeNetns(lab.name, node), ...argv], { allowFailure: true, timeoutMs: 20_000 });
  const debugPods = async (node: string): Promise<{ name: string; netns: string }[]> => {
    const r = await inNode(node, ['curl', '-sS', '-m', '5', 'http://127.0.0.1:15000/debug/pods']);
    if (r.code !== 0) return [];
    return (JSON.parse(r.stdout) as { pods: { name: string; netns: string }[] }).pods;
  };

  /** The load generator in the client pod (captured); resolves with its JSON report. */
  const startLoad = (newConnections: boolean): Promise<LoadResult> =>
    // A restart on a loaded 2-core machine can take 10-20 s and a SYN retransmitted at 15 s may wait
    // until 31 s: the client waits that long (undici's default connect timeout is 10 s), so only
    // connections the mesh breaks count as errors, not a slow restart.
    startMeshLoad(lab, { from: 'mesh/client', target: 'http://echo.mesh/', rate: RATE, durationS: DURATION_S, newConnections, timeoutS: 45 });

  /**
   * SIGKILLs the node's agent and starts it again as `lab up` does (startNodeAgent: same argv, same
   * state dir; no CNI call); returns the kill time, the new pid and the new agent's readiness time.
   */
  const killAndRestart = async (node: string, beforeRestart?: () => Promise<void>): Promise<{ killAt: number; oldPid: number; newPid: number; readyAt: number }> => {
    const rec = (await listRecords(lab.paths.procs)).find((x) => x.id === `agent-${node}`);
    expect(rec && isAlive(rec)).toBe(true);
    const killAt = Date.now();
    process.kill(rec!.pid, 'SIGKILL');
    await sleep(300);
    await beforeRestart?.();
    // What `lab up` does for a dead agent, without the CLI's own start-up (slow on a loaded machine).
    await startNodeAgent(lab.paths, lab.info, lab.info.nodes.find((n) => n.name === node)!);
    let ready: LogLine | undefined;
    for (let i = 0; i < 300 && !ready; i++) {
      ready = (await agentLog(node)).find((l) => l.msg === 'node agent ready' && l.pid !== rec!.pid && Date.parse(l.time) > killAt);
      if (!ready) await sleep(100);
    }
    expect(ready, `agent-${node} never became ready again`).toBeDefined();
    const started = (await listRecords(lab.paths.procs)).find((x) => x.id === `agent-${node}`);
    console.log(JSON.stringify({ node, killAt: new Date(killAt).toISOString(), processStarted: started?.startedAt, ready: ready!.time }));
    return { killAt, oldPid: rec!.pid, newPid: ready!.pid, readyAt: Date.parse(ready!.time) };
  };

  /** Non-ok access-log outcomes of both agents since `since` (diagnostics printed with each run). */
  const refusals = async (since: number): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const node of ['n1', 'n2']) {
      for (const l of await agentLog(node)) {
        if (l.log !== 'access' || l.outcome === 'ok' || Date.parse(l.time) < since) continue;
        const k = `${node} pid ${l.pid} ${String(l.outcome)} at ${l.time.slice(11, 19)}: ${String(l.reason).slice(0, 90)}`;
        out[k] = (out[k] ?? 0) + 1;
      }
      for (const l of await agentLog(node)) {
        if (l.level === 'info' || l.log === 'access' || Date.parse(l.time) < since) continue;
        const k = `${node} pid ${l.pid} ${l.msg}: ${JSON.stringify(l.err ?? '').slice(0, 120)}`;
        out[k] = (out[k] ?? 0) + 1;
      }
    }
    return out;
  };

  /**
   * `resumeMs`: how soon after readiness the first success must come. 1 s when the client's agent
   * restarted (held connections are served at once). When the server's agent restarted, the client's
   * agent first needs a new HBONE session (its TCP connection already queued on the early listener; TLS
   * and CONNECT once the gate opens), measured at 1.09 s at load 15 on 2 cores: 2 s there.
   */
  const checkLoad = (load: LoadResult, t: { killAt: number; readyAt: number }, what: string, newConnections: boolean, resumeMs: number): void => {
    const failed = load.requests.filter(([, , o]) => o !== 200);
    // Keep-alive: the pool's connections open at the kill (each may lose the request it carries or is
    // handed next). New connections: one per request, so the requests in flight at the kill.
    const openAtKill = newConnections
      ? load.requests.filter(([start, end]) => start <= t.killAt && end >= t.killAt).length
      : load.connections.filter(([at]) => at <= t.killAt).reduce((n, [, d]) => n + d, 0);
    const gap = load.requests.filter(([start]) => start > t.killAt && start < t.readyAt);
    const firstOkAfterReady = load.requests.filter(([, end, o]) => o === 200 && end >= t.readyAt).reduce((m, [, end]) => Math.min(m, end), Infinity);
    const summary = {
      what,
      sent: load.sent,
      ok: load.statuses['200'] ?? 0,
      failed: failed.length,
      errors: load.errors,
      openAtKill,
      restartMs: t.readyAt - t.killAt,
      startedDuringRestart: gap.length,
      failedStartedDuringRestart: gap.filter(([, , o]) => o !== 200).length,
      firstOkAfterReadyMs: firstOkAfterReady - t.readyAt,
      // A few failures, times relative to the kill.
      failedSample: failed.slice(0, 5).map(([start, end, o]) => [Math.round(start - t.killAt), Math.round(end - t.killAt), o]),
    };
    console.log(JSON.stringify(summary));
    expect(load.requests.length).toBe(load.sent);
    expect(load.sent).toBeGreaterThan(RATE * DURATION_S * 0.9);
    // The kill fell inside the run, with traffic before and after it.
    expect(load.requests.some(([s]) => s < t.killAt - 2000)).toBe(true);
    expect(load.requests.some(([s]) => s > t.readyAt + 2000)).toBe(true);
    // No assertion that something was in flight: with new connections on an idle machine a request
    // lasts ~2 ms, so often nothing is at the kill instant, and then the only right count of failures is 0.
    expect(failed.length, JSON.stringify(summary)).toBeLessThanOrEqual(openAtKill + MARGIN);
    for (const [start, end, outcome] of failed) {
      expect(end, `request ${start}→${end} (${outcome}) failed outside the restart window`).toBeGreaterThanOrEqual(t.killAt - 50);
      expect(end, `request ${start}→${end} (${outcome}) failed outside the restart window`).toBeLessThanOrEqual(t.readyAt + 1000);
    }
    // Successes resume within 1 s of readiness (held connections are served at once).
    expect(firstOkAfterReady - t.readyAt).toBeLessThanOrEqual(resumeMs);
  };

  const checkRestored = async (node: string, newPid: number, cniBefore: number): Promise<void> => {
    const lines = await agentLog(node);
    const restored = lines.find((l) => l.pid === newPid && l.msg === 'restored enrollments from state file');
    expect(restored?.restored).toBe(PODS[node].length);
    expect((await debugPods(node)).map((p) => p.name).sort()).toEqual(PODS[node]);
    expect(await cniLogSize(node), 'the CNI plugin was called during the restart').toBe(cniBefore);
    const s = await lab.status();
    for (const p of s.pods.filter((x) => x.node === node)) expect(p.captured, p.name).toBe(true);
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 3, timeoutMs: 300_000 });
    // Warm the path once (certificates, pools) so the runs measure the restart, not the first request.
    for (let i = 0; i < 30; i++) {
      const r = await lab.exec('mesh/client', ['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://echo.mesh/']);
      if (r.stdout === '200') break;
      await sleep(500);
    }
  }, 400_000);
  afterAll(async () => {
    await lab?.down();
  });

  it('kill -9 of the client node agent under keep-alive load: only requests on connections open at the kill fail', async () => {
    const cniBefore = await cniLogSize('n1');
    const load = startLoad(false);
    await sleep(6000);
    const t = await killAndRestart('n1');
    const result = await load;
    console.log(JSON.stringify(await refusals(t.killAt - 1000)));
    checkLoad(result, t, 'n1 killed, keep-alive', false, 1000);
    await checkRestored('n1', t.newPid, cniBefore);
  }, 180_000);

  it('kill -9 of the server node agent under new-connection load: only connections in flight at the kill fail', async () => {
    const cniBefore = await cniLogSize('n2');
    const load = startLoad(true);
    await sleep(6000);
    const t = await killAndRestart('n2');
    const result = await load;
    console.log(JSON.stringify(await refusals(t.killAt - 1000)));
    checkLoad(result, t, 'n2 killed, new connections', true, 2000);
    await checkRestored('n2', t.newPid, cniBefore);
  }, 180_000);

  it('with its state file lost, a restarted agent finds the running pods in the host procfs and captures them again', async () => {
    const stateFile = join(lab.paths.node('n1').agentDir, 'state', 'enrollments.json');
    expect(existsSync(stateFile)).toBe(true);
    const t = await killAndRestart('n1', () => rm(stateFile, { force: true }));
    const lines = await agentLog('n1');
    expect(lines.find((l) => l.pid === t.newPid && l.msg === 'restored enrollments from state file')?.restored).toBe(0);
    let pods = await debugPods('n1');
    for (let i = 0; i < 120 && pods.length < PODS.n1.length; i++) {
      await sleep(500);
      pods = await debugPods('n1');
    }
    expect(pods.map((p) => p.name).sort()).toEqual(PODS.n1);
    for (const p of pods) expect(p.netns, p.name).toMatch(/^\/proc\/\d+\/ns\/net$/);
    const found = (await agentLog('n1')).filter((l) => l.pid === t.newPid && l.msg === 'found the netns of a running pod in the host procfs');
    expect(found.length).toBe(PODS.n1.length);
    // Captured for real: the client's traffic leaves over HBONE with its own identity again.
    let r = await lab.exec('mesh/client', ['curl', '-sS', '-m', '10', 'http://echo.mesh/after-procfs']);
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      await sleep(500);
      r = await lab.exec('mesh/client', ['curl', '-sS', '-m', '10', 'http://echo.mesh/after-procfs']);
    }
    expect(r.code, r.stderr).toBe(0);
    let out: LogLine | undefined;
    for (let i = 0; i < 20 && !out; i++) {
      out = (await agentLog('n1')).find((l) => l.pid === t.newPid && l.log === 'access' && l.direction === 'outbound' && JSON.stringify(l).includes('spiffe://cluster.local/ns/mesh/sa/sa-client'));
      if (!out) await sleep(250);
    }
    expect(out?.path).toBe('hbone');
    // And the new state file records them, so the next restart restores them without a scan.
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { pods: { name: string }[] };
    expect(saved.pods.map((p) => p.name).sort()).toEqual(PODS.n1);
  }, 240_000);
});
