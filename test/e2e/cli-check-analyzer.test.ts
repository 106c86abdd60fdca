// Pins `weft check`'s analyzers against a lab with traffic, run as a user types them (the built CLI,
// `--lab <name>`): a route whose parentRef misspells its Service gives WEFT-C003 naming the route and the
// Service it meant; stopping the node agent of a node with captured pods gives WEFT-C020 naming that node
// (and exit 1); `weft waypoint delete` of the waypoint an L7 policy needs warns and refuses first, and
// with --force the policy fails closed: the client's requests are refused and `weft check` reports
// WEFT-C011 with the command that brings the waypoint back. Failure it guards: analyzers that read a
// shape the control plane does not write, or a node agent's state the lab does not record.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run, type RunResult } from '../../lab/command.js';
import { startNodeAgent } from '../../lab/mesh.js';
import { readRecord, stopProcess } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { ambientNamespace, echoPod, httpService, l7DenyPolicy, singleBackendRoute, waypointGateway } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `
${ambientNamespace('ck')}
${waypointGateway('ck', 1)}
${echoPod('client', 'ck', 'n1', 'client')}
${echoPod('web', 'ck', 'n2', 'web')}
${httpService('web', 'ck', 'web', { 'weft.dev/use-waypoint': 'waypoint' })}
---
${singleBackendRoute('ck', 'typo', 'wbe', 'web')}
${l7DenyPolicy('ck', 'no-admin-posts', 'web', 'POST', '/admin*')}
`;

interface Report {
  passed: boolean;
  findings: { code: string; severity: string; object: string; message: string; fix: string }[];
}

describeRoot('weft check analyzers against a lab (needs root: network namespaces)', () => {
  let lab: Lab;

  const weft = (args: readonly string[]): Promise<RunResult> => run([process.execPath, CLI, ...args, '--lab', lab.name], { allowFailure: true, timeoutMs: 60_000 });
  const check = async (): Promise<{ code: number; report: Report }> => {
    const r = await weft(['check', '-o', 'json']);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };
  const curl = async (args: readonly string[]): Promise<string> => {
    const r = await lab.exec('ck/client', ['curl', '-sS', '-o', '/dev/null', '--max-time', '5', '-w', '%{http_code}', ...args]);
    return r.code === 0 ? r.stdout : `exit ${r.code}`;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 3, timeoutMs: 150_000 });
    await eventually(async () => (await curl(['http://web.ck/'])) === '200', 60_000, 'GET web.ck answered 200 through the waypoint');
  }, 420_000);

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('a misspelled parentRef is WEFT-C003 naming the route and the Service it meant', async () => {
    const { code, report } = await check();
    expect(code).toBe(1);
    expect(report.passed).toBe(false);
    const typo = report.findings.filter((f) => f.object === 'HTTPRoute ck/typo');
    expect(typo).toEqual([expect.objectContaining({ code: 'WEFT-C003', severity: 'error', message: 'parentRef Service ck/wbe does not exist (did you mean web?)' })]);
    expect(typo[0]?.fix).toContain(`\`sudo weft lab apply --lab ${lab.name} -f <file>\``);
    const table = await weft(['check']);
    expect(table.stdout).toMatch(/^WEFT-C003\s+error\s+HTTPRoute ck\/typo\s+parentRef Service ck\/wbe does not exist/m);
  });

  it('a stopped node agent on a node with captured pods is WEFT-C020 naming the node', async () => {
    const rec = await readRecord(lab.paths.procs, 'agent-n1');
    expect(rec, 'the lab records agent-n1').toBeDefined();
    await stopProcess(rec!);
    try {
      const { code, report } = await check();
      expect(code).toBe(1);
      const agent = report.findings.filter((f) => f.code === 'WEFT-C020');
      expect(agent).toEqual([expect.objectContaining({ severity: 'error', object: 'node n1', message: expect.stringContaining('ck/client') as string })]);
      expect(agent[0]?.fix).toContain(`\`sudo weft lab up --lab ${lab.name}\``);
    } finally {
      const n1 = lab.info.nodes.find((n) => n.name === 'n1')!;
      await startNodeAgent(lab.paths, lab.info, n1);
    }
    await eventually(async () => !(await check()).report.findings.some((f) => f.code === 'WEFT-C020' || f.code === 'WEFT-C021'), 60_000, 'the restarted agent of n1 ready again');
  });

  it('waypoint delete warns and refuses while an L7 policy needs it; forced, the policy fails closed as WEFT-C011', async () => {
    const refused = await weft(['waypoint', 'delete', '-n', 'ck']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^warning WEFT-C011 PolicyFailClosed: AuthorizationPolicy ck\/no-admin-posts would be enforced as DENY/m);
    expect(refused.stderr).toContain('ERR_WEFT_CLI_WAYPOINT_NEEDED');
    expect(refused.stderr).toContain(`weft waypoint delete -n ck --name waypoint --force --lab ${lab.name}`);
    expect((await weft(['waypoint', 'list', '-n', 'ck'])).stdout).toMatch(/^ck\s+waypoint\s/m);

    const forced = await weft(['waypoint', 'delete', '-n', 'ck', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('WEFT-C011');
    // Fail closed: the node agent of web denies what the policy selects, which without a waypoint is everything.
    await eventually(async () => (await curl(['http://web.ck/'])) !== '200', 60_000, 'GET web.ck refused once the waypoint is gone');
    let failClosed: Report['findings'] = [];
    await eventually(async () => (failClosed = (await check()).report.findings.filter((f) => f.code === 'WEFT-C011')).length > 0, 60_000, 'weft check reports the fail-closed policy');
    expect(failClosed).toEqual([expect.objectContaining({ severity: 'error', object: 'AuthorizationPolicy ck/no-admin-posts' })]);
    expect(failClosed[0]?.fix).toContain(`\`weft waypoint apply -n ck --name waypoint --wait --lab ${lab.name}\``);
  });
});
