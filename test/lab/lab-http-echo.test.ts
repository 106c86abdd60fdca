// Pins the sample HTTP echo the lab's pods run (tests across the repo rely on it): it answers HTTP/1.1
// and cleartext HTTP/2 on one port with the method, path, headers and TCP peer it saw and its pod name,
// fails with a requested status, waits a requested delay, fails everything with FAIL_RATE=1 (but never
// /healthz), and forwards to another URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = fileURLToPath(new URL('../../dist/lab/apps/http-echo.js', import.meta.url));

/**
 * Starts the echo on a port the kernel picks (PORT=0) and returns it from the app's first line. A port
 * chosen at random here once collided with another test's ephemeral port (EADDRINUSE in a CI run).
 */
function start(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [APP], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (line: Buffer) => resolve({ child, port: (JSON.parse(line.toString().split('\n')[0]) as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`http-echo exited with ${code}`)));
  });
}

interface Echo {
  pod: string;
  protocol: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  peer: { address: string; port: number };
  upstream?: Echo;
}

describe('lab http-echo (needs `npm run build`: runs dist/lab/apps/http-echo.js)', () => {
  let port: number;
  let failingPort: number;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    if (!existsSync(APP)) throw new Error(`${APP} is missing: run \`npm run build\` first`);
    const a = await start({ POD_NAME: 'echo-a', POD_NAMESPACE: 't' });
    children.push(a.child);
    port = a.port;
    const b = await start({ POD_NAME: 'echo-b', FAIL_RATE: '1' });
    children.push(b.child);
    failingPort = b.port;
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('HTTP/1.1: echoes method, path, headers, peer and pod name', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/some/path?x=1`, { method: 'POST', body: 'abc', headers: { 'x-test': 'yes' } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Echo & { bodyBytes: number };
    expect(body).toMatchObject({ pod: 'echo-a', protocol: 'HTTP/1.1', method: 'POST', path: '/some/path', bodyBytes: 3 });
    expect(body.headers['x-test']).toBe('yes');
    expect(body.peer.address).toBe('127.0.0.1');
  });

  it('h2c with prior knowledge on the same port', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    const text = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/h2' });
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (data += d));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });
    session.close();
    expect(JSON.parse(text)).toMatchObject({ protocol: 'h2', path: '/h2', pod: 'echo-a' });
  });

  it('fails with ?status= and waits ?delay=', async () => {
    const t = Date.now();
    const r = await fetch(`http://127.0.0.1:${port}/?status=503&delay=300`);
    expect(r.status).toBe(503);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    const h = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-echo-status': '418' } });
    expect(h.status).toBe(418);
  });

  it('FAIL_RATE=1 fails every request but not /healthz', async () => {
    expect((await fetch(`http://127.0.0.1:${failingPort}/`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${failingPort}/healthz`)).status).toBe(200);
  });

  it('/forward nests the upstream answer', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/forward?url=${encodeURIComponent(`http://127.0.0.1:${port}/inner`)}`);
    const body = (await r.json()) as Echo;
    expect(body.upstream).toMatchObject({ pod: 'echo-a', path: '/inner' });
  });
});
