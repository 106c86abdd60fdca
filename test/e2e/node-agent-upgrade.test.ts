// Pins the hitless node agent upgrade in a two-node lab, done as a `helm upgrade` with the chart's
// default rollout does it (maxSurge 1, maxUnavailable 0): the new agent starts beside the running one on
// the node, and once it is ready the old one gets SIGTERM and drains (lab/mesh.ts replaceNodeAgent).
// Through it a captured client on n1 keeps a long-lived TCP echo connection to a pod on n2 and drives
// 200 requests/s at an HTTP echo Service on n2. Nothing may be lost: 0 failed requests, every echo
// answered in order on the same connection, and the old agent exits on its own once its last connection
// ended (drained, not cut at the end of its grace period). Once for the client's node (keep-alive load:
// its connections stay on the old agent until the load ends) and once for the server's node (a new
// connection per request: every one after the SIGTERM goes to the new agent).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replaceNodeAgent } from '../../lab/mesh.js';
import { podNetns } from '../../lab/names.js';
import { netnsPath } from '../../lab/netns.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { EchoConnection } from '../support/echo-connection.js';
import { eventually } from '../support/eventually.js';
import { agentLog, warmUp } from '../support/lab-load.js';
import { ambientNamespace, echoPod, httpService, serviceAccount, startLoad } from '../support/mesh-load.js';
import { startLab, type Lab } from '../support/lab.js';
import { describeRoot } from '../support/root.js';

const RATE = 200;
const DURATION_S = 30;

/** The long-lived connection's server: weft/tcp-echo on 9000. */
const TCP_ECHO_POD = `${serviceAccount('sa-tcp', 'mesh')}
apiVersion: v1
kind: Pod
metadata: { name: tcp, namespace: mesh, labels: { app: tcp } }
spec:
  nodeName: n2
  serviceAccountName: sa-tcp
  containers:
    - { name: app, image: weft/tcp-echo, ports: [{ containerPort: 9000 }] }
---`;

const MANIFESTS = `${ambientNamespace('mesh')}
${echoPod('client', 'mesh', 'n1', 'sa-client')}
${echoPod('b', 'mesh', 'n2', 'sa-b')}
${TCP_ECHO_POD}
${httpService('echo', 'mesh', 'b')}`;

describeRoot('node agent upgrade (surge, then drain) under 200 requests/s and a long-lived connection (needs root: network namespaces)', () => {
  let lab: Lab;
  let tcpIp: string;

  /** A TCP connection from inside the client pod (captured: no agent mark) to the tcp-echo pod. */
  const openEcho = async (): Promise<EchoConnection> => {
    const socket = new NetnsSocketFactory(netnsPath(podNetns(lab.name, 'mesh', 'client')), 0).connect(tcpIp, 9000);
    const c = new EchoConnection(socket);
    await c.echo('hello\n', 30_000);
    return c;
  };

  /** Echoes a numbered line every 100 ms until `stop()`; any echo missing or out of order fails the run. */
  const keepEchoing = (c: EchoConnection): { stop: () => Promise<number> } => {
    let stopped = false;
    let n = 0;
    let failed: Error | undefined;
    const loop = (async () => {
      while (!stopped) {
        await c.echo(`seq-${n}\n`);
        n++;
        await sleep(100);
      }
    })().catch((err: unknown) => (failed = err instanceof Error ? err : new Error(String(err))));
    return {
      stop: async () => {
        stopped = true;
        await loop;
        if (failed) throw new Error(`echo ${n} failed: ${failed.message}`);
        return n;
      },
    };
  };

  /** Warnings, errors and non-ok access-log lines of both nodes' agents since `since` (printed when a run fails). */
  const problems = async (since: number): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const node of ['n1', 'n2']) {
      for (const l of await agentLog(lab, node)) {
        if (Date.parse(l.time) < since) continue;
        const bad = l.log === 'access' ? l.outcome !== 'ok' : l.level !== 30 && l.level !== 'info';
        if (!bad && !/drain/.test(l.msg)) continue;
        const k = `${node} pid ${l.pid} ${l.time.slice(11, 21)} ${l.msg} ${JSON.stringify(l.outcome ?? '')} ${JSON.stringify(l.reason ?? '').slice(0, 100)} ${JSON.stringify(l.err ?? '').slice(0, 160)}`;
        out[k] = (out[k] ?? 0) + 1;
      }
    }
    return out;
  };

  const upgrade = async (node: string, newConnections: boolean): Promise<void> => {
    const t0 = Date.now();
    const echo = await openEcho();
    const pinger = keepEchoing(echo);
    const load = startLoad(lab, { from: 'mesh/client', target: 'http://echo.mesh/', rate: RATE, durationS: DURATION_S, newConnections });
    await sleep(5000);
    const r = await replaceNodeAgent(lab.paths, lab.info, lab.info.nodes.find((n) => n.name === node)!, { killAfterMs: 90_000 });
    await eventually(async () => (await agentLog(lab, node)).some((l) => l.pid === r.oldPid && l.msg.startsWith('draining')), 30_000, 'the old agent draining');
    // The echo connection carries on through the draining agent until the load is over; then the app closes it.
    const result = await load;
    const echoed = await pinger.stop().catch(async (err: Error) => {
      console.log(JSON.stringify({ at: new Date().toISOString(), startedAt: new Date(r.newStartedAt).toISOString(), readyAt: new Date(r.readyAt).toISOString(), stoppedAt: new Date(r.stoppedAt).toISOString(), ...(await problems(t0)) }));
      throw err;
    });
    echo.socket.end();
    await echo.closed;
    await r.drained;

    const failed = result.requests.filter(([, , o]) => o !== 200);
    const lines = await agentLog(lab, node);
    const exit = lines.find((l) => l.pid === r.oldPid && (l.msg === 'drained; exiting' || l.msg.startsWith('drain over')));
    const summary = {
      node,
      newConnections,
      sent: result.sent,
      ok: result.statuses['200'] ?? 0,
      failed: failed.length,
      errors: result.errors,
      readyToStopMs: r.stoppedAt - r.readyAt,
      startedAfterStop: result.requests.filter(([s]) => s > r.stoppedAt).length,
      echoed,
      oldAgentExit: exit && { why: exit.why, ms: exit.ms, closing: exit.closing },
      failedSample: failed.slice(0, 5).map(([s, e, o]) => [Math.round(s - r.stoppedAt), Math.round(e - r.stoppedAt), o]),
    };
    console.log(JSON.stringify(summary));
    expect(result.requests.length).toBe(result.sent);
    expect(result.sent).toBeGreaterThan(RATE * DURATION_S * 0.9);
    // The replacement fell inside the run, with traffic on both sides of it.
    expect(result.requests.some(([s]) => s < r.stoppedAt - 2000)).toBe(true);
    expect(result.requests.filter(([s]) => s > r.stoppedAt + 2000).length).toBeGreaterThan(RATE);
    expect(failed.length, JSON.stringify(summary)).toBe(0);
    expect(echo.error).toBeUndefined();
    expect(echoed).toBeGreaterThan(DURATION_S * 3);
    // The old agent ended on its own once its last connection was done, cutting none.
    expect(exit?.why, JSON.stringify(summary)).toBe('drained');
    // The new agent serves the node: a fresh connection echoes.
    const after = await openEcho();
    after.socket.end();
    await after.closed;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 3, timeoutMs: 300_000 });
    tcpIp = (await lab.status()).pods.find((p) => p.name === 'tcp')!.ip;
    await warmUp(lab, 'mesh/client', 'http://echo.mesh/');
  }, 400_000);
  afterAll(async () => {
    await lab?.down();
  });

  it('upgrading the client node’s agent under keep-alive load loses nothing', async () => {
    await upgrade('n1', false);
  }, 240_000);

  it('upgrading the server node’s agent under new-connection load loses nothing', async () => {
    await upgrade('n2', true);
  }, 240_000);
});
