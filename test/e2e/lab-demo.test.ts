// Pins the first run as a user types it (README, issue 11): `weft lab up --demo` brings up the lab on its
// real API server; the kubectl line it prints lists the lab's nodes, and `kubectl get nodes,pods -A` with
// that kubeconfig shows both nodes and every demo pod Running on them; then each hint the demo prints runs
// exactly as printed (`weft` being `node dist/cli/main.js` in a checkout, as the hints say) and does what
// it says: the pods captured, frontend answering, frontend → backend through the mesh, the echo made to
// fail, the TCP echo, the pod's log, and `weft lab down` removing everything.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run, type RunResult } from '../../lab/command.js';
import { leftovers } from '../../lab/teardown.js';
import { CLI, uniqueLabName } from '../support/lab.js';
import { describeRootKube, TOOLS_BIN } from '../support/kube-tools.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A printed command line run by bash in the checkout, with `weft` the built CLI and kubectl from setup's tools. */
function typed(line: string): Promise<RunResult> {
  const script = `cd ${JSON.stringify(ROOT)}\nweft() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }\n${line}`;
  return run(['bash', '-c', script], { allowFailure: true, timeoutMs: 300_000, env: { ...process.env, PATH: `${TOOLS_BIN}:${process.env.PATH ?? ''}` } });
}

describeRootKube('weft lab up --demo, typed as a user types it', () => {
  const name = uniqueLabName();
  let up: RunResult;
  let hints: string[] = [];

  beforeAll(async () => {
    up = await typed(`weft lab up --demo --lab ${name}`);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    // The hints: the indented `weft …` lines after "Try:".
    const after = up.stdout.slice(up.stdout.indexOf('Try:'));
    hints = after.split('\n').filter((l) => /^\s+weft /.test(l)).map((l) => l.trim());
  }, 320_000);

  afterAll(async () => {
    await run([process.execPath, CLI, 'lab', 'down', '--lab', name], { allowFailure: true, timeoutMs: 120_000 });
  }, 130_000);

  it('prints a kubectl line that reaches the lab, and kubectl lists both nodes and every demo pod Running', async () => {
    const printed = /`(kubectl --kubeconfig \S+ get namespaces)`/.exec(up.stdout)?.[1];
    expect(printed, up.stdout).toBeDefined();
    const ns = await typed(printed!);
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toMatch(/^demo\s+Active/m);
    const all = await typed(printed!.replace('get namespaces', 'get nodes,pods -A -o wide'));
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^node\/n1\s+Ready/m);
    expect(all.stdout).toMatch(/^node\/n2\s+Ready/m);
    const demoPods = all.stdout.split('\n').filter((l) => l.startsWith('demo '));
    for (const app of ['frontend-', 'backend-v1-', 'backend-v2-', 'tcp-echo-', 'client ']) {
      expect(demoPods.some((l) => l.includes(`pod/${app}`) && /\bRunning\b/.test(l) && /\bn[12]\b/.test(l)), `${app} in\n${all.stdout}`).toBe(true);
    }
  });

  it('runs each printed hint as printed, and each does what it says', async () => {
    expect(hints.length).toBeGreaterThanOrEqual(7);
    const byPart = (part: string): string => {
      const line = hints.find((h) => h.includes(part));
      expect(line, `a hint with ${part} among\n${hints.join('\n')}`).toBeDefined();
      return line!;
    };
    const status = await typed(byPart('lab status'));
    expect(status.code, status.stderr).toBe(0);
    // Every demo pod is Ready and captured by its node's agent.
    // The status tables (nodes, pods, services) are separated by a blank line.
    const podsTable = status.stdout.split('\n\n')[1] ?? '';
    expect(podsTable).toMatch(/^NAMESPACE\s+POD\s/);
    const demoRows = podsTable.split('\n').filter((l) => /^demo\s/.test(l));
    expect(demoRows.length).toBeGreaterThanOrEqual(5);
    for (const row of demoRows) expect(row, status.stdout).toMatch(/\btrue\s+\d+\s+true$/);

    const front = await typed(byPart('http://frontend/'));
    expect(front.code, front.stderr).toBe(0);
    expect(front.stdout).toContain('frontend');
    const forward = await typed(byPart('/forward?url=http://backend:8080/'));
    expect(forward.code, forward.stderr).toBe(0);
    expect(forward.stdout).toMatch(/backend/);
    // The hint with curl's status code printed (its comment cut, so that the added flags are not in it).
    const failing = await typed(`${byPart('status=503').replace(/\s+#.*$/, '')} -o /dev/null -w '%{http_code}'`);
    expect(failing.stdout.trim()).toBe('503');
    const tcp = await typed(byPart('/dev/tcp/tcp-echo/9000'));
    expect(tcp.code, tcp.stderr).toBe(0);
    expect(tcp.stdout.trim()).toBe('hello');
    const logs = await typed(byPart('lab logs'));
    expect(logs.code, logs.stderr).toBe(0);

    const down = await typed(byPart('lab down'));
    expect(down.code, down.stderr).toBe(0);
    expect(await leftovers(name)).toEqual({ namespaces: [], stateDir: false, etcDirs: [], mounts: [] });
  });
});
