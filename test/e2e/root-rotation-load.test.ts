// Pins root CA rotation without restarts or outage (issue 13 item 9) in a two-node lab: while a captured
// client on n1 sends 200 requests/s (one TCP connection each) to a captured HTTP echo Service on n2, the
// cluster commands of docs/rotation.md run exactly as printed with the lab's kubeconfig (its "In a lab"
// section) — a new root (step 0), both roots trusted
// (step 1), the signer switched (step 2), the wait until every certificate renewed, the old root removed
// (step 3). Pins: no request fails, no process restarts (same pids), each step reaches both agents, the
// certificates renew under the new root within seconds, and the HBONE sessions authenticated under the
// old root are closed gracefully once it is removed (new ones carry the traffic).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { TOOLS_BIN } from '../support/kube-tools.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { ambientNamespace, echoPod, httpService, startLoad } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const RATE = 200;
const DURATION_S = 40;

const MANIFESTS = `${ambientNamespace('mesh')}
${echoPod('client', 'mesh', 'n1', 'sa-client')}
${echoPod('b', 'mesh', 'n2', 'sa-b')}
${httpService('echo', 'mesh', 'b')}`;

interface LogLine {
  pid: number;
  time: string;
  msg: string;
  [k: string]: unknown;
}

/**
 * The shell blocks of docs/rotation.md: step 0 (the new CA), the cluster section's (keep the old root,
 * step 1, the ConfigMap check, step 2, the cluster's renewal check, step 3) and the lab section's (setup:
 * LAB and KUBECONFIG; the lab's renewal check), in order.
 */
function docBlocks(doc: string): { newCa: string; setup: string; step1: string; caRoot: string; step2: string; check: string; step3: string } {
  const blocks = (text: string): string[] => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const step0 = blocks(doc.slice(doc.indexOf('## Step 0'), doc.indexOf('## In a cluster')));
  const cluster = blocks(doc.slice(doc.indexOf('## In a cluster'), doc.indexOf('## In a lab')));
  const lab = blocks(doc.slice(doc.indexOf('## In a lab'), doc.indexOf('## Notes')));
  expect(step0).toHaveLength(1);
  expect(cluster).toHaveLength(7);
  expect(lab).toHaveLength(2);
  const [keepOld, oldRoot, step1, caRoot, step2, , step3] = cluster;
  const [setup, check] = lab;
  return { newCa: step0[0], setup, step1: `${keepOld}\n${oldRoot}\n${step1}`, caRoot, step2, check, step3 };
}

describeRoot('root CA rotation under 200 requests/s (needs root: network namespaces)', () => {
  let lab: Lab;
  let work: string;

  const log = async (id: string): Promise<LogLine[]> =>
    (await readFile(join(lab.paths.logs, `${id}.log`), 'utf8'))
      .split('\n')
      .flatMap((l) => {
        // The last line may be half-written while the process logs.
        try {
          return l.startsWith('{') ? [JSON.parse(l) as LogLine] : [];
        } catch {
          return [];
        }
      });
  const since = async (id: string, t: number, msg: string): Promise<LogLine[]> => (await log(id)).filter((l) => l.msg.startsWith(msg) && Date.parse(l.time) >= t);
  const pids = async (): Promise<Record<string, number>> => Object.fromEntries((await listRecords(lab.paths.procs)).filter(isAlive).map((r) => [r.id, r.pid]));

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    work = await mkdtemp(join(tmpdir(), `weft-rotation-${lab.name}-`));
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 2, timeoutMs: 300_000 });
    // Warm the path once (certificates, pools) so that the run measures the rotation, not the first request.
    await eventually(async () => (await lab.exec('mesh/client', ['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://echo.mesh/'])).stdout === '200', 60_000, 'a first request through the mesh');
  }, 400_000);
  afterAll(async () => {
    await lab?.down();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs the documented procedure with 0 failed requests and no restart', async () => {
    const doc = docBlocks(await readFile(fileURLToPath(new URL('../../docs/rotation.md', import.meta.url)), 'utf8'));
    // The only change to the printed commands: the lab's name.
    expect(doc.setup).toMatch(/^LAB=demo$/m);
    const setup = doc.setup.replace(/^LAB=demo$/m, `LAB=${lab.name}`);
    // `weft` as the README says it is in a checkout, and the lab's kubectl, on PATH.
    const bin = join(work, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'weft'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${TOOLS_BIN}:${process.env.PATH ?? ''}` };
    const sh = async (script: string): Promise<string> => {
      const r = await run(['bash', '-euo', 'pipefail', '-c', `cd ${work}\n${setup}\n${script}`], { allowFailure: true, timeoutMs: 60_000, env });
      expect(r.code, `${script}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const agents = ['agent-n1', 'agent-n2'];
    const bundleChanged = (t: number): Promise<boolean> =>
      Promise.all(agents.map((a) => since(a, t, 'trust bundle changed'))).then((per) => per.every((l) => l.length > 0));

    await sh(doc.newCa);
    const before = await pids();
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['control', ...agents]));

    const load = startLoad(lab, { from: 'mesh/client', target: 'http://echo.mesh/', rate: RATE, durationS: DURATION_S, newConnections: true, timeoutS: 30 });
    load.catch(() => undefined); // awaited below; a step failing first must not leave it unhandled
    const loadStart = Date.now();
    await sleep(3000); // traffic before the first step

    const t1 = Date.now();
    await sh(doc.step1);
    await eventually(() => bundleChanged(t1), 30_000, 'step 1 (both roots) reached both agents');
    // The documented wait: ConfigMap weft-ca-root holds both roots.
    await eventually(async () => (await sh(doc.caRoot)).trim() === '2', 30_000, 'weft-ca-root holds two certificates');

    const t2 = Date.now();
    await sh(doc.step2);
    await eventually(async () => (await since('control', t2, 'CA store changed')).some((l) => l.signerChanged === true), 30_000, 'the control plane switched its signer');
    await eventually(() => bundleChanged(t2), 30_000, 'step 2 (new signing root) reached both agents');
    // The documented check: one line per node, each 0 once every certificate there renewed.
    await eventually(async () => {
      const lines = (await sh(`${doc.check.trim()} || true`)).trim().split('\n').filter(Boolean);
      return lines.length === 2 && lines.every((l) => / 0$/.test(l));
    }, 60_000, 'every certificate renewed under the new root');
    const renewed = await Promise.all(agents.map((a) => since(a, t2, 'renewing certificates issued under another root')));
    expect(renewed.every((l) => l.length > 0), 'both agents renewed after the switch').toBe(true);

    const t3 = Date.now();
    await sh(doc.step3);
    await eventually(() => bundleChanged(t3), 30_000, 'step 3 (old root removed) reached both agents');
    // Sessions authenticated under the old root were closed gracefully by one end or the other.
    await eventually(
      async () => (await Promise.all(agents.map((a) => since(a, t3, 'closed HBONE sessions')))).some((l) => l.length > 0),
      30_000,
      'the old sessions closed',
    );
    const doneAt = Date.now();
    expect(doneAt - loadStart, 'the whole procedure ran under load').toBeLessThan((DURATION_S - 3) * 1000);

    const result = await load;
    const failed = result.requests.filter(([, , o]) => o !== 200);
    const summary = {
      sent: result.sent,
      ok: result.statuses['200'] ?? 0,
      failed: failed.length,
      errors: result.errors,
      stepsMs: { step1: t1 - loadStart, step2: t2 - loadStart, step3: t3 - loadStart, done: doneAt - loadStart },
      failedSample: failed.slice(0, 5).map(([s, e, o]) => [Math.round(s - loadStart), Math.round(e - loadStart), o]),
    };
    console.log(JSON.stringify(summary));
    expect(result.requests.length).toBe(result.sent);
    expect(result.sent).toBeGreaterThan(RATE * DURATION_S * 0.9);
    expect(result.requests.some(([s]) => s > doneAt + 1000), 'traffic after the last step').toBe(true);
    expect(failed.length, JSON.stringify(summary)).toBe(0);

    // No restart: the same processes, and every log line of the agents and the control plane since is theirs.
    const after = await pids();
    for (const id of ['control', ...agents]) {
      expect(after[id], id).toBe(before[id]);
      expect((await log(id)).filter((l) => Date.parse(l.time) >= loadStart && l.pid !== before[id]), id).toEqual([]);
    }
  }, 240_000);
});
