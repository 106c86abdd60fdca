// Pins the loopback forward that gives the host's kubectl the lab's API server: a port on the host's
// 127.0.0.1 (never another address) whose connections reach a server that listens only inside a network
// namespace, bytes intact both ways; it runs as a recorded lab process whose stop frees the port. A
// target that does not answer fails the start with the forward's name and log file, and leaves nothing.
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { stopComponent, type Placement } from '../../lab/kube/components.js';
import { startLoopbackForward, type LoopbackForward } from '../../lab/kube/loopback-forward.js';
import { listRecords, pidAlive } from '../../lab/processes.js';
import { hasCode, isWeftError } from '../../lib/errors/index.js';
import { eventually } from '../support/eventually.js';
import { NetnsSandbox } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

/** Answers POST bodies reversed, GET with `inside`; listens on the namespace's bridge address only. */
const SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => res.end(req.method === 'POST' ? body.split('').reverse().join('') : 'inside'));
}).listen(18080, process.argv[1], () => console.log('listening'));
`;

function get(port: number, path = '/', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

describeRoot('lab loopback forward into a network namespace (root)', () => {
  const sandbox = new NetnsSandbox();
  let root: string;
  let p: Placement;
  let forward: LoopbackForward | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `${sandbox.prefix}fwd-`));
    await sandbox.up();
    p = { procs: join(root, 'procs'), logs: join(root, 'logs'), dir: root, netns: sandbox.nodeNs, readyTimeoutMs: 30_000 };
    const server = sandbox.spawn(sandbox.nodeNs, process.execPath, ['-e', SERVER, sandbox.gateway]);
    await new Promise<void>((resolve, reject) => {
      server.stdout?.on('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the test server exited with ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (forward) await stopComponent(p.procs, forward);
    await sandbox.destroy();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('serves the namespace-only server on the host loopback, recorded, and frees the port on stop', async () => {
    // Not reachable from the host without the forward: the address exists only inside the namespace.
    forward = await startLoopbackForward({ ...p, target: { host: sandbox.gateway, port: 18080 }, health: (port) => ({ url: `http://127.0.0.1:${port}/` }) });
    expect(await get(forward.port)).toEqual({ status: 200, body: 'inside' });
    const big = 'abcdefghij'.repeat(100_000);
    expect((await get(forward.port, '/', big)).body).toBe(big.split('').reverse().join(''));

    // Bound to the host's loopback only, by the recorded process (not by this test process).
    const ss = await run(['ss', '-Hltnp', `sport = :${forward.port}`]);
    const lines = ss.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${forward.port}`);
    expect(lines[0]).toContain(`pid=${forward.record.pid},`);
    expect((await listRecords(p.procs)).map((r) => r.id)).toEqual(['kube-forward']);

    const { pid } = forward.record;
    await stopComponent(p.procs, forward);
    const port = forward.port;
    forward = undefined;
    expect(pidAlive(pid)).toBe(false);
    expect(await listRecords(p.procs)).toEqual([]);
    await eventually(() => refused(port), 10_000, 'the port to be closed');
  }, 60_000);

  it('fails with its name and log when the target does not answer, and leaves no process', async () => {
    const err = await startLoopbackForward({ ...p, id: 'fwd-bad', readyTimeoutMs: 3_000, target: { host: sandbox.gateway, port: 18099 }, health: (port) => ({ url: `http://127.0.0.1:${port}/` }) }).catch(
      (e: unknown) => e,
    );
    expect(hasCode(err, 'ERR_WEFT_LAB_KUBE_START_FAILED')).toBe(true);
    if (!isWeftError(err)) throw err;
    expect(err.message).toMatch(/^fwd-bad did not start: /); // named by its process id (kube-forward, prometheus-forward, …)
    expect(err.message).toContain(`log: ${join(p.logs, 'fwd-bad.log')}`);
    expect(await listRecords(p.procs)).toEqual([]);
  }, 60_000);
});
