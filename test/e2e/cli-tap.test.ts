// Pins `weft tap` and `weft top` against a lab with real traffic, run as a user types them (the built CLI,
// `--lab <name>`): while `weft tap -n tp -o json` runs, a GET sent by tp/client through the waypoint
// shows up as a request event with the client's and the backend's SPIFFE IDs, the route and backend the
// waypoint chose, and the would-be verdict of a dry-run DENY policy; a POST /admin answered 403 names the
// DENY policy and rule (which the client never sees); the client's node agent shows its connection with
// both identities, and the db's agent names the L4 policy and rule that refused the client. `weft top -o json` counts exactly the requests sent to a path while it listened.
// Failure it guards: a tap that streamed nothing from live components, lost identities or verdicts, or
// a top whose counts drifted from the requests sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { eventually } from '../support/eventually.js';
import { ambientNamespace, echoPod, httpService, l7DenyPolicy, singleBackendRoute, waypointGateway } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `
${ambientNamespace('tp')}
${waypointGateway('tp', 1)}
${echoPod('client', 'tp', 'n1', 'client')}
${echoPod('web', 'tp', 'n2', 'web')}
${echoPod('db', 'tp', 'n2', 'db')}
${httpService('web', 'tp', 'web', { 'weft.dev/use-waypoint': 'waypoint' })}
---
${httpService('db', 'tp', 'db')}
---
${singleBackendRoute('tp', 'web', 'web', 'web')}
${l7DenyPolicy('tp', 'no-admin-posts', 'web', 'POST', '/admin*')}
apiVersion: security.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: deny-dry, namespace: tp, annotations: { weft.dev/dry-run: "true" } }
spec:
  targetRefs: [{ kind: Service, group: "", name: web }]
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/dry*"] } }] }]
---
apiVersion: security.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: client-not-to-db, namespace: tp }
spec:
  selector: { matchLabels: { app: db } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/tp/sa/client"] } }] }]
`;

const CLIENT_ID = 'spiffe://cluster.local/ns/tp/sa/client';
const WEB_ID = 'spiffe://cluster.local/ns/tp/sa/web';

/** A `weft` process left running while the test sends traffic; its output as it comes. */
interface Running {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

describeRoot('weft tap / weft top against a lab with traffic (needs root: network namespaces)', () => {
  let lab: Lab;
  const running: Running[] = [];

  const start = (args: readonly string[]): Running => {
    const proc = spawn(process.execPath, [CLI, ...args, '--lab', lab.name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Running = { proc, stdout: '', stderr: '', exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) };
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (r.stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
    running.push(r);
    return r;
  };
  const curl = async (args: readonly string[]): Promise<string> => {
    const r = await lab.exec('tp/client', ['curl', '-sS', '-o', '/dev/null', '--max-time', '10', '-w', '%{http_code}', ...args]);
    return r.code === 0 ? r.stdout : `exit ${r.code}`;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 4, timeoutMs: 150_000 });
    await eventually(async () => (await curl(['http://web.tp/'])) === '200', 60_000, 'GET web.tp answered 200 through the waypoint');
    await eventually(async () => (await curl(['-X', 'POST', '--data', 'x', 'http://web.tp/admin/x'])) === '403', 60_000, 'POST /admin answered 403 by the waypoint');
  }, 420_000);

  afterEach(async () => {
    for (const r of running.splice(0)) {
      if (r.proc.exitCode === null) r.proc.kill('SIGTERM');
      await r.exited;
    }
  });

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('weft tap shows the request just sent through the waypoint with both identities, the verdicts, and the agent connection', async () => {
    const tap = start(['tap', '-n', 'tp', '-o', 'json']);
    await eventually(() => /^tapping .*node agent n1.*waypoint tp\/waypoint/m.test(tap.stderr), 30_000, `weft tap attached (stderr: ${tap.stderr})`);
    expect(await curl(['http://web.tp/dry-probe?x=1'])).toBe('200');
    expect(await curl(['-X', 'POST', '--data', 'x', 'http://web.tp/admin/tap'])).toBe('403');
    type Ev = Record<string, unknown> & { type: string; component: string; path?: string; source: { identity: string; workload: string }; destination: { identity: string } };
    const events = (): Ev[] => tap.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
    await eventually(() => events().some((e) => e.path === '/admin/tap'), 30_000, 'the POST /admin/tap in the tap');

    const get = events().find((e) => e.type === 'request' && e.path === '/dry-probe');
    expect(get).toMatchObject({
      method: 'GET',
      status: 200,
      route: 'tp/web',
      backend: 'tp/web:80',
      source: { namespace: 'tp', identity: CLIENT_ID },
      destination: { namespace: 'tp', identity: WEB_ID, service: 'web.tp.svc.cluster.local' },
      verdict: { action: 'allow' },
      dryRun: { verdict: 'would_deny', policy: 'tp/deny-dry', rule: 0 },
    });
    expect(get!.component).toMatch(/^waypoint tp\/waypoint/);
    const denied = events().find((e) => e.type === 'request' && e.path === '/admin/tap');
    expect(denied).toMatchObject({ method: 'POST', status: 403, outcome: 'DENY', verdict: { action: 'deny', policy: 'tp/no-admin-posts', rule: 0 }, source: { identity: CLIENT_ID } });

    // The client's own agent reports its connections to the waypoint: opened, then closed with bytes.
    await eventually(() => events().some((e) => e.type === 'connection' && e.component === 'node agent n1' && e.event === 'close' && e.source.identity === CLIENT_ID), 30_000, 'a closed connection of tp/client at node agent n1');
    const conn = events().find((e) => e.type === 'connection' && e.component === 'node agent n1' && e.event === 'close' && e.source.identity === CLIENT_ID)!;
    expect(conn).toMatchObject({ reporter: 'source', direction: 'outbound', via: 'waypoint', outcome: 'ok', destination: { identity: 'spiffe://cluster.local/ns/tp/sa/waypoint', port: 80, service: 'web.tp.svc.cluster.local' } });
    expect(conn.bytesSent as number).toBeGreaterThan(0);

    // The db's agent refuses the client by an L4 policy: the tap names the policy and the rule.
    expect(await curl(['http://db.tp/'])).not.toBe('200');
    await eventually(() => events().some((e) => e.type === 'connection' && e.component === 'node agent n2' && e.outcome === 'DENY'), 30_000, 'the refused connection at node agent n2');
    const refused = events().find((e) => e.type === 'connection' && e.component === 'node agent n2' && e.outcome === 'DENY')!;
    expect(refused).toMatchObject({
      event: 'close',
      reporter: 'destination',
      source: { identity: CLIENT_ID },
      destination: { identity: 'spiffe://cluster.local/ns/tp/sa/db', port: 8080 },
      verdict: { action: 'deny', policy: 'tp/client-not-to-db', rule: 0 },
    });

    // The filter is applied by the components: a namespace with no traffic streams nothing.
    const none = start(['tap', '-n', 'nobody', '-o', 'json', '--seconds', '5']);
    await eventually(() => /^tapping /m.test(none.stderr), 30_000, 'the filtered tap attached');
    expect(await curl(['http://web.tp/quiet'])).toBe('200');
    expect(await none.exited).toBe(0);
    expect(none.stdout).toBe('');
  }, 120_000);

  it('weft tap prints one table line per event for people', async () => {
    const tap = start(['tap', '-n', 'tp', '--path', '/line', '--method', 'get']);
    await eventually(() => /^tapping /m.test(tap.stderr), 30_000, 'weft tap attached');
    expect(await curl(['http://web.tp/line/1'])).toBe('200');
    await eventually(() => tap.stdout.includes('/line/1'), 30_000, 'the request line');
    const line = tap.stdout.split('\n').find((l) => l.includes('/line/1'))!;
    expect(line).toMatch(/req {2}waypoint tp\/waypoint.*GET web\.tp\/line\/1 → 200/);
    expect(line).toContain(`src=tp/client (${CLIENT_ID})`);
    expect(line).toContain(`(${WEB_ID})`);
    expect(line).toContain('dry-run=would_allow');
    // --path and --method leave connections out: they have neither.
    expect(tap.stdout).not.toMatch(/ conn /);
  }, 60_000);

  it('weft top counts the requests sent to a path while it listened', async () => {
    const top = start(['top', '-n', 'tp', '--path', '/top', '-o', 'json', '--seconds', '25']);
    await eventually(() => /^listening to /m.test(top.stderr), 30_000, 'weft top attached');
    for (let i = 0; i < 6; i++) expect(await curl([`http://web.tp/top/${i < 4 ? 'hot' : 'cold'}`])).toBe('200');
    expect(await top.exited).toBe(0);
    const snap = JSON.parse(top.stdout) as { rows: { source: string; destination: string; method: string; path: string; count: number; successRate: number; latencyMs: { p50: number } }[] };
    expect(snap.rows.map((r) => [r.path, r.count])).toEqual([
      ['/top/hot', 4],
      ['/top/cold', 2],
    ]);
    expect(snap.rows[0]).toMatchObject({ source: 'tp/client', destination: 'web.tp.svc.cluster.local', method: 'GET', successRate: 1 });
    expect(snap.rows[0].latencyMs.p50).toBeGreaterThan(0);
  }, 60_000);
});
