// Pins, in a real lab (control plane, CNI chain, agent), that no connection can make the node agent call
// itself. Before, each vector below made the agent connect to its own listener, hop after hop: within
// 1–3 s it held 17 000–20 000 file descriptors, grew from ~80 to 300–600 MiB and wrote tens of MB of
// log, and in about 3 of 7 tries died of an uncaught EMFILE, taking the mesh of every pod on the node
// with it. Vectors: from a captured pod to 127.0.0.1:15001/15006 and to its own IP:15001/15006; from a
// pod outside the mesh (default policy) to the captured pod's IP:15001/15006; and HBONE CONNECTs to
// <pod IP>:15001 and :15008 (a captured pod addressing those ports). Each must be refused once with the
// flag SELF_CALL and leave the agent's pid, file descriptors and RSS as they were.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAlive, listRecords, type ProcRecord } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { startLab, type Lab } from '../support/lab.js';
import { TCP_CLIENT } from '../support/netns.js';
import { echoPod } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: mesh, labels: { weft.dev/dataplane-mode: ambient } }
---
apiVersion: v1
kind: Namespace
metadata: { name: plain }
---
${echoPod('a', 'mesh', 'n1', 'sa-a')}
${echoPod('b', 'mesh', 'n1', 'sa-b')}
${echoPod('p', 'plain', 'n1', 'default')}
`;

/** Descriptors a quiet agent may open or close between two readings (pool sessions, log rotation). */
const FD_MARGIN = 30;
/** RSS may move with garbage collection; a loop adds hundreds of MiB. */
const RSS_MARGIN_KIB = 64 * 1024;
/** A looping agent past this is killed at once, so that a failing run cannot take the machine with it. */
const FD_RUNAWAY = 2000;

describeRoot('node agent in the lab: no self-calls through the agent (needs root: network namespaces)', () => {
  let lab: Lab;
  let agent: ProcRecord;
  const ip: Record<string, string> = {};
  const base = { fds: 0, rssKiB: 0 };
  let runaway = false;

  const fds = (): number => readdirSync(`/proc/${agent.pid}/fd`).length;
  const rssKiB = (): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1] ?? NaN);
  const agentLog = (): string => readFileSync(join(lab.paths.logs, 'agent-n1.log'), 'utf8');
  /** Connects from a pod, sends `hello`, half-closes; what came back, or `ERR <exit code>` (4 = timed out). */
  const talk = async (from: string, host: string, port: number): Promise<string> => {
    const r = await lab.exec(from, ['env', 'CLIENT_TIMEOUT_MS=5000', process.execPath, '--input-type=module', '-e', TCP_CLIENT, host, String(port), 'hello'], { timeoutMs: 20_000 });
    return r.code === 0 ? r.stdout : `ERR ${r.code}`;
  };
  const curl = async (from: string, url: string): Promise<number> => (await lab.exec(from, ['curl', '-sS', '-m', '10', '-o', '/dev/null', url])).code;

  /** Reads the agent's record, warms both directions (certificates, HBONE sessions), takes the baseline at rest. */
  const settleAgent = async (): Promise<void> => {
    const rec = (await listRecords(lab.paths.procs)).find((x) => x.id === 'agent-n1');
    if (!rec) throw new Error('no agent-n1 process record');
    agent = rec;
    await eventually(async () => (await curl('mesh/a', `http://${ip.b}:8080/warm`)) === 0 && (await curl('mesh/b', `http://${ip.a}:8080/warm`)) === 0, 60_000, 'a ↔ b through the mesh');
    await eventually(async () => (await curl('plain/p', `http://${ip.a}:8080/warm`)) === 0, 30_000, 'p → a');
    base.fds = fds();
    base.rssKiB = rssKiB();
  };
  /** After a vector that killed the agent, `lab up` starts it again (as a DaemonSet would): each vector runs on its own. */
  const ensureAgent = async (): Promise<void> => {
    runaway = false;
    if (isAlive(agent)) return;
    await lab.cli(['up', '--nodes', '1']);
    await settleAgent();
  };

  // Polls the agent while a vector runs: a loop grows by thousands of descriptors a second.
  const watchRunaway = (): (() => void) => {
    const t = setInterval(() => {
      if (runaway || !isAlive(agent)) return;
      let n: number;
      try {
        n = fds();
      } catch {
        return; // exited between the two checks
      }
      if (n > base.fds + FD_RUNAWAY) {
        runaway = true;
        process.kill(agent.pid, 'SIGKILL');
      }
    }, 20);
    return () => clearInterval(t);
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 1 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 3, timeoutMs: 300_000 });
    for (const p of (await lab.status()).pods) ip[p.name] = p.ip;
    await settleAgent();
  }, 420_000);
  afterAll(async () => {
    await lab?.down();
  }, 180_000);

  const cases: [string, string, () => string, number][] = [
    ['captured pod → 127.0.0.1:15001', 'mesh/a', () => '127.0.0.1', 15001],
    ['captured pod → 127.0.0.1:15006', 'mesh/a', () => '127.0.0.1', 15006],
    ['captured pod → its own IP:15001', 'mesh/a', () => ip.a, 15001],
    ['captured pod → its own IP:15006', 'mesh/a', () => ip.a, 15006],
    ['pod outside the mesh → captured pod IP:15001', 'plain/p', () => ip.a, 15001],
    ['pod outside the mesh → captured pod IP:15006', 'plain/p', () => ip.a, 15006],
    ['HBONE CONNECT to <pod IP>:15001 (captured b → a:15001)', 'mesh/b', () => ip.a, 15001],
    ['HBONE CONNECT to <pod IP>:15008 (captured b → a:15008)', 'mesh/b', () => ip.a, 15008],
  ];
  it.each(cases)('%s: refused once with SELF_CALL; agent pid, fds and RSS unchanged', async (_name, from, host, port) => {
    await ensureAgent();
    const addr = `${host()}:${port}`;
    const logFrom = agentLog().length;
    const stop = watchRunaway();
    let out: string;
    try {
      out = await talk(from, host(), port);
    } finally {
      stop();
    }
    expect(runaway, `the agent looped past ${FD_RUNAWAY} extra descriptors and was killed`).toBe(false);
    expect(out, 'the client timed out: its connection went round in circles').not.toBe('ERR 4');
    expect(out).not.toContain('hello');
    const refusals = (): string[] =>
      agentLog()
        .slice(logFrom)
        .split('\n')
        .filter((l) => l.includes('"log":"access"') && l.includes('"outcome":"SELF_CALL"') && l.includes(`"addr":"${addr}"`));
    const lines = await eventually(() => (refusals().length > 0 ? refusals() : undefined), 10_000, `a SELF_CALL access-log line for ${addr}`);
    expect(lines.join('\n')).toMatch(/ERR_WEFT_(AGENT|HBONE)_SELF_/);
    // The agent is the same process, back to its descriptors and about its memory.
    expect(isAlive(agent)).toBe(true);
    const rec = (await listRecords(lab.paths.procs)).find((x) => x.id === 'agent-n1');
    expect(rec?.pid).toBe(agent.pid);
    await eventually(() => fds() <= base.fds + FD_MARGIN, 10_000, `agent fds back to ${base.fds} (+${FD_MARGIN})`);
    expect(rssKiB()).toBeLessThan(base.rssKiB + RSS_MARGIN_KIB);
    expect(refusals()).toHaveLength(1);
  }, 180_000);

  it('the mesh still works afterwards, through the same agent', async () => {
    expect(isAlive(agent)).toBe(true);
    expect(await curl('mesh/a', `http://${ip.b}:8080/after`)).toBe(0);
    expect(await curl('plain/p', `http://${ip.a}:8080/after`)).toBe(0);
    expect(isAlive(agent)).toBe(true);
  });
});
