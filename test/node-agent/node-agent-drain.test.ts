// Pins the node agent's graceful drain and hand-over, as a rolling update with maxSurge runs it: a
// successor agent starts beside the running one (both serve the pods' listeners through SO_REUSEPORT
// and the CNI socket moves to the successor), then the old agent gets SIGTERM. It stops accepting, its
// live connection goes on and finishes, new connections go to the successor, and it exits as soon as
// nothing is left (not after the grace period), leaving the capture rules, the state file and the
// successor's CNI socket in place. A connection still open when the grace period ends is closed then.
import 'reflect-metadata';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { EchoConnection } from '../support/echo-connection.js';
import { eventually } from '../support/eventually.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';
import { agentSandbox } from '../support/agent-sandbox.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/node-agent/main.js');

interface Agent {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  log(): string;
}

function call(socketPath: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      let t = '';
      res.setEncoding('utf8').on('data', (d: string) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: t ? (JSON.parse(t) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describeRoot('node-agent drain on SIGTERM with a successor agent (needs root: network namespaces, nftables)', { timeout: 180_000 }, () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet;
  let dir: string;
  let sock: string;
  const agents: Agent[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  /** Starts an agent (the same flags every time, as a DaemonSet's next pod); resolves once it logs ready. */
  const startAgent = async (drainMs: number): Promise<Agent> => {
    const child = sb.spawn(sb.nodeNs, 'env', [
      `WEFT_AGENT_DRAIN_MS=${drainMs}`, process.execPath,
      MAIN, '--node', 'n1', '--local-config', join(dir, 'local.yaml'), '--cni-socket', sock, '--state-dir', join(dir, 'state'),
      '--admin-address', '127.0.0.1:15000', '--metrics-address', '127.0.0.1:15020', '--health-address', '127.0.0.1:15021',
    ]);
    let logs = '';
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const agent: Agent = { child, exited, log: () => logs };
    agents.push(agent);
    // Ready (state and certificates) and started (every server, the CNI socket included, listening).
    await eventually(() => (logs.includes('"msg":"node agent ready"') && logs.includes('"msg":"node agent started"')) || child.exitCode !== null, 90_000, 'agent ready');
    expect(child.exitCode, logs).toBeNull();
    return agent;
  };
  const talk = (from: PodNet, ip: string, port: number): Promise<string> =>
    sb.run(from.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, ip, String(port), 'hello']).catch((e: Error) => `ERR ${e.message}`);
  const enroll = (cmd: 'add' | 'check', p: PodNet, name: string) =>
    call(sock, `/v1/cni/${cmd}`, {
      command: cmd.toUpperCase(), containerId: `c-${name}`, netns: p.path, ifname: 'eth0', podNamespace: 'shop', podName: name, podUid: `uid-${name}`,
      config: { name: 'k8s', cniVersion: '1.0.0' }, prevResult: { cniVersion: '1.0.0', ips: [{ address: `${p.ip}/24`, gateway: sb.gateway }] },
    });
  const openLong = async (): Promise<EchoConnection> => {
    const s = new NetnsSocketFactory(a.path, 0).connect(b.ip, 8080);
    sockets.push(s);
    const c = new EchoConnection(s);
    await eventually(() => c.text.includes(`peer=${a.ip}`), 15_000, 'the app greeting through the mesh');
    return c;
  };
  /** Access-log lines of an agent for A → B outbound connections. */
  const outbound = (agent: Agent): number => agent.log().split('\n').filter((l) => l.includes('"log":"access"') && l.includes('"direction":"outbound"')).length;

  beforeAll(async () => {
    const box = await agentSandbox(sb, 'drain');
    ({ a, b, dir, sock } = box);
    servers.push(box.app);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const x of agents) if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill('SIGKILL');
    for (const s of servers) s.close();
    await sb.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the old agent keeps its live connection after SIGTERM, new connections go to the successor, and it exits once the connection ends', async () => {
    const old = await startAgent(60_000);
    expect(await enroll('add', a, 'a')).toMatchObject({ status: 200, body: { captured: true } });
    expect(await enroll('add', b, 'b')).toMatchObject({ status: 200, body: { captured: true } });
    // Queued connections of a closing listener move to the successor's (node-agent-listener-migration).
    expect((await sb.run(a.ns, 'sysctl', ['-n', 'net.ipv4.tcp_migrate_req'])).trim(), old.log().slice(-2000)).toBe('1');
    const long = await openLong();
    await long.echo('one');

    // The successor starts beside it (re-enrolls from the state file, joins the listeners), then SIGTERM.
    const next = await startAgent(1500);
    old.child.kill('SIGTERM');
    await eventually(() => old.log().includes('"msg":"draining'), 15_000, 'the old agent draining');

    // The live connection goes on through the draining agent.
    await long.echo('two');
    // New connections are the successor's; the CNI socket is too.
    const servedBefore = outbound(next);
    for (let i = 0; i < 5; i++) expect(await talk(a, b.ip, 8080)).toBe(`peer=${a.ip}\nhello`);
    await eventually(() => outbound(next) >= servedBefore + 5, 15_000, 'the successor logging the new connections');
    expect((await enroll('check', b, 'b')).body).toMatchObject({ captured: true });
    await long.echo('three');
    expect(old.child.exitCode).toBeNull();

    // The connection ends: the old agent exits now, long before its 60 s grace period.
    const t0 = Date.now();
    long.socket.end();
    await long.closed;
    expect(await old.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(old.log()).toContain('"why":"drained"');
    // The old agent's access log has the long connection as a normal close.
    const longLine = old.log().split('\n').find((l) => l.includes('"log":"access"') && l.includes('"direction":"outbound"') && /"bytes_sent":11\b/.test(l));
    expect(longLine, old.log().slice(-3000)).toContain('"outcome":"ok"');

    // What the successor relies on is still there: capture rules, state file, its CNI socket.
    for (const p of [a, b]) expect(await sb.run(p.ns, 'nft', ['list', 'tables'])).toContain('weft');
    const saved = JSON.parse(await readFile(join(dir, 'state', 'enrollments.json'), 'utf8')) as { pods: { name: string }[] };
    expect(saved.pods.map((p) => p.name).sort()).toEqual(['a', 'b']);
    expect((await enroll('check', a, 'a')).body).toMatchObject({ captured: true });
    expect(await talk(a, b.ip, 8080)).toBe(`peer=${a.ip}\nhello`);
  });

  it('a connection still open when the grace period ends is closed, and the agent exits', async () => {
    const current = agents[agents.length - 1];
    const long = await openLong();
    await long.echo('four');
    await startAgent(60_000);
    const t0 = Date.now();
    current.child.kill('SIGTERM');
    // Its grace period is 1.5 s: the connection is closed then, and the agent exits 0.
    await long.closed;
    expect(await current.exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(current.log()).toContain('"why":"grace period over"');
    expect(await talk(a, b.ip, 8080)).toBe(`peer=${a.ip}\nhello`);
  });
});
