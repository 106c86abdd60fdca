// Pins `weft get` and `weft explain` against a lab with real traffic, run exactly as a user types them
// (the built CLI, `--lab <name>`): after a POST /admin answered 403 by the waypoint, `weft explain` names
// the DENY policy and the waypoint that enforces it; after a connection to `db` reset by the destination's
// node agent, it names the L4 DENY policy and that agent's node; an allowed GET shows the HTTPRoute rule
// and its backend. `weft get certificates` shows the client's SPIFFE ID at its node agent, with a root
// fingerprint equal to the waypoint's (one CA); `weft get workloads|policies|config` show what each
// component holds; `-o json` parses. Failure it guards: an explain that re-derived the path in the CLI and
// drifted from what the data plane does, or views that printed nothing from a live component.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run, type RunResult } from '../../lab/command.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { eventually } from '../support/eventually.js';
import { ambientNamespace, echoPod, httpService, l7DenyPolicy, singleBackendRoute, waypointGateway } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `
${ambientNamespace('ex')}
${waypointGateway('ex', 1)}
${echoPod('client', 'ex', 'n1', 'client')}
${echoPod('web', 'ex', 'n2', 'web')}
${echoPod('db', 'ex', 'n2', 'db')}
${httpService('web', 'ex', 'web', { 'weft.dev/use-waypoint': 'waypoint' })}
---
${httpService('db', 'ex', 'db')}
---
${singleBackendRoute('ex', 'web', 'web', 'web')}
${l7DenyPolicy('ex', 'no-admin-posts', 'web', 'POST', '/admin*')}
apiVersion: security.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: client-not-to-db, namespace: ex }
spec:
  selector: { matchLabels: { app: db } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/ex/sa/client"] } }] }]
`;

const CLIENT_ID = 'spiffe://cluster.local/ns/ex/sa/client';

describeRoot('weft get / weft explain against a lab with traffic (needs root: network namespaces)', () => {
  let lab: Lab;

  /** `weft <args> --lab <lab>` as a user runs it. */
  const weft = (args: readonly string[]): Promise<RunResult> => run([process.execPath, CLI, ...args, '--lab', lab.name], { allowFailure: true, timeoutMs: 60_000 });
  const ok = async (args: readonly string[]): Promise<string> => {
    const r = await weft(args);
    expect(r.code, `weft ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const curl = async (args: readonly string[]): Promise<string> => {
    const r = await lab.exec('ex/client', ['curl', '-sS', '-o', '/dev/null', '--max-time', '10', '-w', '%{http_code}', ...args]);
    return r.code === 0 ? r.stdout : `exit ${r.code}`;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 4, timeoutMs: 150_000 });
    // Real traffic first: the waypoint answers 200 and 403, the db's agent resets the client.
    await eventually(async () => (await curl(['http://web.ex/'])) === '200', 60_000, 'GET web.ex answered 200 through the waypoint');
    await eventually(async () => (await curl(['-X', 'POST', '--data', 'x', 'http://web.ex/admin/x'])) === '403', 60_000, 'POST /admin answered 403 by the waypoint');
    await eventually(async () => (await curl(['http://db.ex/'])) !== '200', 60_000, 'db.ex refused to the client');
  }, 420_000);

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('weft explain names the waypoint DENY policy for POST /admin, and the route for GET /', async () => {
    const denied = await ok(['explain', '-n', 'ex', 'client', 'web.ex:80', '--method', 'POST', '--path', '/admin/x']);
    expect(denied).toMatch(/verdict\s+DENY \(ex\/no-admin-posts\): denied at waypoint ex\/waypoint/);
    expect(denied).toContain('403');
    expect(denied).toMatch(/captured\s+yes: node agent n1/);

    const allowed = JSON.parse(await ok(['explain', 'ex/client', 'web.ex', '-o', 'json'])) as {
      verdict: { outcome: string };
      route: { kind: string; via: string };
      waypoint: { route: { kind: string; name: string; backends: { name: string; endpoints: unknown[] }[] }; policies: string[] };
      hops: { inbound?: { decision: { allowed: boolean } }; peer?: string }[];
    };
    expect(allowed.verdict.outcome).toBe('ALLOW');
    expect(allowed.route).toMatchObject({ kind: 'hbone', via: 'waypoint' });
    expect(allowed.waypoint.policies).toEqual(['ex/no-admin-posts']);
    expect(allowed.waypoint.route.kind).toBe('route');
    expect(allowed.waypoint.route.name).toBe('ex/web');
    expect(allowed.waypoint.route.backends[0]).toMatchObject({ name: 'ex/web:80' });
    expect(allowed.waypoint.route.backends[0]?.endpoints).toHaveLength(1);
    // The waypoint reaches web's agent with its own identity.
    expect(allowed.hops[0]?.peer).toBe('spiffe://cluster.local/ns/ex/sa/waypoint');
    expect(allowed.hops[0]?.inbound?.decision.allowed).toBe(true);
  });

  it("weft explain names the L4 DENY policy and the destination's node agent for db", async () => {
    const out = await ok(['explain', '-n', 'ex', 'client', 'db.ex']);
    expect(out).toMatch(/verdict\s+DENY \(ex\/client-not-to-db\): denied at node agent n2 \(ex\/db\)/);
    expect(out).toMatch(new RegExp(`path\\s+HBONE to 10\\.244\\.2\\.\\d+:15008, peer spiffe://cluster.local/ns/ex/sa/db`));
  });

  it("weft get certificates shows the client's SPIFFE ID at its node agent, under the waypoint's root", async () => {
    const table = await ok(['get', 'certificates', '--node', 'n1']);
    expect(table.split('\n')[0]).toMatch(/^IDENTITY\s+SERIAL\s+NOT BEFORE\s+NOT AFTER\s+EXPIRES IN\s+ROOT SHA-256$/);
    expect(table).toContain(CLIENT_ID);
    expect(table).not.toMatch(/PRIVATE KEY/);
    type Cert = { identity: string; serial: string; notAfter: string; expiresInSeconds: number; rootFingerprint: string };
    const agent = JSON.parse(await ok(['get', 'certificates', '--node', 'n1', '-o', 'json'])) as Cert[];
    const client = agent.find((c) => c.identity === CLIENT_ID)!;
    expect(client.serial).toMatch(/^[0-9a-f]+$/i);
    expect(client.expiresInSeconds).toBeGreaterThan(3600);
    expect(client.rootFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const wp = JSON.parse(await ok(['get', 'certificates', '-n', 'ex', '--waypoint', 'waypoint', '-o', 'json'])) as Cert[];
    expect(wp.map((c) => c.identity)).toEqual(['spiffe://cluster.local/ns/ex/sa/waypoint']);
    expect(wp[0]?.rootFingerprint).toBe(client.rootFingerprint);
  });

  it('weft get workloads, policies and config show what each component holds', async () => {
    const workloads = JSON.parse(await ok(['get', 'workloads', '--node', 'n1', '-o', 'json'])) as { namespace: string; name: string; node: string; identity: string; captured: boolean }[];
    expect(workloads.find((w) => w.namespace === 'ex' && w.name === 'client')).toMatchObject({ node: 'n1', identity: CLIENT_ID, captured: true });
    const table = await ok(['get', 'workloads', '--node', 'n1']);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+IP\s+NODE\s+IDENTITY\s+CAPTURED\s+WAYPOINT$/);

    const policies = await ok(['get', 'policies', '-n', 'ex', '--waypoint', 'waypoint']);
    expect(policies).toMatch(/ex\s+no-admin-posts\s+service web\s+DENY\s+1\s+no/);
    const atAgent = await ok(['get', 'policies', '--node', 'n2']);
    expect(atAgent).toMatch(/ex\s+client-not-to-db\s+selector app=db\s+DENY\s+1\s+no/);

    expect(await ok(['get', 'config', '--node', 'n2'])).toMatch(/^node\s+n2$/m);
    expect(await ok(['get', 'config', '-n', 'ex', '--waypoint', 'waypoint'])).toMatch(/^gateway\s+ex\/waypoint$/m);
  });

  it('refuses what it cannot answer, with the code and what to do', async () => {
    const noPod = await weft(['explain', '-n', 'ex', 'nobody', 'web.ex']);
    expect(noPod.code).toBe(1);
    expect(noPod.stderr).toContain('ERR_WEFT_CLI_NOT_FOUND');
    const noHost = await weft(['explain', '-n', 'ex', 'client', 'nothing.ex:80']);
    expect(noHost.code).toBe(1);
    expect(noHost.stderr).toContain('ERR_WEFT_ADMIN_UNKNOWN_HOST');
    const noTarget = await weft(['get', 'workloads']);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('--node <node>');
    const noNode = await weft(['get', 'workloads', '--node', 'n9']);
    expect(noNode.code).toBe(1);
    expect(noNode.stderr).toContain('ERR_WEFT_CLI_NOT_FOUND');
  });
});
