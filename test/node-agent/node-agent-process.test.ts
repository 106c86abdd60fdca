// Pins the weft-node-agent process in --local-config mode: enrollment over the CNI unix socket
// installs capture and listeners before ADD answers, A → B works over HBONE, /healthz/ready, metrics and
// admin answer, DEL releases, and after kill -9 a restarted agent re-enrolls from its state file alone.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:net';
import { eventually } from '../support/eventually.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';
import { agentSandbox } from '../support/agent-sandbox.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/node-agent/main.js');

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let t = '';
      res.setEncoding('utf8').on('data', (d: string) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: t ? (JSON.parse(t) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describeRoot('node-agent process with --local-config (needs root: network namespaces, nftables)', { timeout: 120_000 }, () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet;
  let dir: string;
  let agent: ChildProcess | undefined;
  let logs = '';
  const servers: Server[] = [];
  let sock: string;

  const startAgent = async (): Promise<void> => {
    agent = sb.spawn(sb.nodeNs, process.execPath, [
      MAIN, '--node', 'n1', '--local-config', join(dir, 'local.yaml'), '--cni-socket', sock, '--state-dir', join(dir, 'state'),
      '--admin-address', '127.0.0.1:15000', '--metrics-address', '127.0.0.1:15020', '--health-address', '127.0.0.1:15021',
    ]);
    agent.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const ready = async (): Promise<boolean> =>
      (await sb.run(sb.nodeNs, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:15021/healthz/ready']).catch(() => '000')) === '200';
    await eventually(ready, 20_000, 'agent ready', 200).catch((e: Error) => {
      throw new Error(`${e.message}:\n${logs}`);
    });
  };
  const talk = (from: PodNet, ip: string, port: number): Promise<string> =>
    sb.talk(from.ns, ip, port);
  const add = (p: PodNet, name: string) =>
    call(sock, 'POST', '/v1/cni/add', {
      command: 'ADD', containerId: `c-${name}`, netns: p.path, ifname: 'eth0', podNamespace: 'shop', podName: name, podUid: `uid-${name}`,
      config: { name: 'k8s', cniVersion: '1.0.0' }, prevResult: { cniVersion: '1.0.0', ips: [{ address: `${p.ip}/24`, gateway: sb.gateway }] },
    });

  beforeAll(async () => {
    const box = await agentSandbox(sb, 'agent');
    ({ a, b, dir, sock } = box);
    servers.push(box.app);
  });
  afterAll(async () => {
    if (agent?.pid && agent.exitCode === null) agent.kill('SIGKILL');
    for (const s of servers) s.close();
    await sb.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('enrolls over the CNI socket and carries A → B over HBONE', async () => {
    await startAgent();
    expect(await add(a, 'a')).toMatchObject({ status: 200, body: { captured: true } });
    expect(await add(b, 'b')).toMatchObject({ status: 200, body: { captured: true } });
    expect(await add(b, 'b')).toMatchObject({ status: 200, body: { captured: true } }); // idempotent
    expect((await call(sock, 'POST', '/v1/cni/check', { command: 'CHECK', containerId: 'c-b', netns: b.path, podNamespace: 'shop', podName: 'b', config: {} })).body).toMatchObject({ captured: true });
    expect(await talk(a, b.ip, 8080)).toBe(`peer=${a.ip}\nhello`);
    const metrics = await sb.run(sb.nodeNs, 'curl', ['-s', 'http://127.0.0.1:15020/metrics']);
    expect(metrics).toMatch(/weft_tcp_connections_opened_total\{reporter="destination",source_workload="a".*destination_principal="spiffe:\/\/cluster.local\/ns\/shop\/sa\/sa-b"[^}]*connection_security_policy="mutual_tls"\} 1/);
    expect(metrics).toMatch(/weft_agent_enrolled_pods 2/);
    const pods = JSON.parse(await sb.run(sb.nodeNs, 'curl', ['-s', 'http://127.0.0.1:15000/debug/pods'])) as { pods: unknown[] };
    expect(pods.pods).toHaveLength(2);
    // Logged when the connection closed, on the agent's stdout: can arrive after the client saw its end.
    await eventually(() => logs.includes('"log":"access"'), 10_000, 'access-log line on stdout');
  });

  it('refuses a bad request with a typed error', async () => {
    const r = await call(sock, 'POST', '/v1/cni/add', { command: 'ADD' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ERR_WEFT_AGENT_ENROLL_INVALID');
    const r2 = await call(sock, 'POST', '/v1/cni/add', { command: 'ADD', containerId: 'x', netns: '/var/run/netns/weft-nope', podNamespace: 'shop', podName: 'x', config: {} });
    expect(r2.body.code).toBe('ERR_WEFT_AGENT_NETNS_MISSING');
  });

  it('after kill -9, a restarted agent re-enrolls from the state file without the CNI', async () => {
    agent!.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
    // Capture rules stay while the agent is down: connections fail rather than bypass the mesh (captured to
    // a port nothing answers on: no reply at all, so the client gives up after its 2 s).
    expect(await sb.talk(a.ns, b.ip, 8080, 'hello', 2000)).toBe('ERR timeout');
    const t0 = Date.now();
    await startAgent();
    let out = '';
    for (let i = 0; i < 10 && out !== `peer=${a.ip}\nhello`; i++) out = await talk(a, b.ip, 8080);
    expect(out).toBe(`peer=${a.ip}\nhello`);
    expect(Date.now() - t0).toBeLessThan(90_000);
    await eventually(() => /"restored":2/.test(logs), 10_000, 'restored line on stdout');
  });

  it('DEL releases the pod', async () => {
    expect((await call(sock, 'POST', '/v1/cni/del', { command: 'DEL', containerId: 'c-b', netns: b.path, podNamespace: 'shop', podName: 'b', config: {} })).body).toMatchObject({ captured: false });
    expect(await sb.run(b.ns, 'nft', ['list', 'tables'])).not.toContain('weft');
    const pods = JSON.parse(await sb.run(sb.nodeNs, 'curl', ['-s', 'http://127.0.0.1:15000/debug/pods'])) as { pods: { name: string }[] };
    expect(pods.pods.map((p) => p.name)).toEqual(['a']);
    // B's HBONE port is gone: A's connection fails fast instead of hanging.
    const t0 = Date.now();
    expect(await talk(a, b.ip, 8080)).toBe('ERR ECONNRESET');
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
