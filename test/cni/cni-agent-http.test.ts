// Pins weft-cni's own HTTP/1.1 client (the plugin talks to the node agent on its unix socket with a
// hand-written client, cni/native/agent.c): answers with a Content-Length, chunked answers, answers
// without a length ended by EOF, answers that arrive a few bytes at a time, and malformed, cut or
// oversized answers — a CNI error with the right code (102 protocol, 11 no answer in time), never a hang
// or a crash. A raw socket server plays the agent, so every byte of the answer is the test's choice.
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './agent-double.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, SANITIZER_REPORT, weftConfig } from './run-plugin.js';

/** What the server writes back, as pieces sent 10 ms apart; `end` closes after the last piece. */
interface Script {
  readonly pieces: readonly string[];
  readonly end: boolean;
}

const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
const OK_BODY = '{"captured":true,"reason":"enrolled"}';
const OK = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: ${OK_BODY.length}\r\n\r\n${OK_BODY}`;
const REFUSAL = [chunk('{"code":"ERR_X","message":"nft failed",'), chunk('"hint":"h"}'), '0\r\n\r\n'].join('');

describe('weft-cni agent HTTP client', () => {
  let dir: string;
  let socket: string;
  let server: Server;
  let script: Script = { pieces: [], end: true };
  const requests: string[] = [];
  const open = new Set<Socket>();

  beforeAll(async () => {
    dir = tempDir('http');
    socket = join(dir, 'agent.sock');
    server = createServer((s: Socket) => {
      let got = '';
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        got += d.toString('utf8');
        const head = got.indexOf('\r\n\r\n');
        const len = /content-length: (\d+)/i.exec(got)?.[1];
        if (head < 0 || Buffer.byteLength(got) < head + 4 + Number(len ?? 0)) return;
        requests.push(got);
        const { pieces, end } = script;
        pieces.forEach((p, i) => setTimeout(() => (i === pieces.length - 1 && end ? s.end(p) : s.write(p)), 10 * i));
        if (pieces.length === 0 && end) s.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const add = async (s: Script, timeoutMs = 2_000) => {
    script = s;
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: socket, agent_timeout_ms: timeoutMs })));
    expect(run.stderr).not.toMatch(SANITIZER_REPORT);
    return run;
  };

  it('sends one well-formed request and reads an answer split into small pieces', async () => {
    // Content-Length complete: the client answers without waiting for the server to close.
    const run = await add({ pieces: OK.match(/[\s\S]{1,7}/g)!, end: false });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
    const sent = requests.at(-1)!;
    expect(sent.startsWith('POST /v1/cni/add HTTP/1.1\r\n')).toBe(true);
    expect(sent).toMatch(/\r\nhost: weft-node-agent\r\n/);
    expect(sent).toMatch(/\r\ncontent-type: application\/json\r\n/);
    const [, payload] = sent.split('\r\n\r\n');
    expect(JSON.parse(payload)).toMatchObject({ command: 'ADD', containerId: 'c0ffee01', podNamespace: 'shop', podName: 'web-7d4f9', prevResult: BRIDGE_RESULT });
    expect(Number(/content-length: (\d+)/.exec(sent)?.[1])).toBe(Buffer.byteLength(payload));
  });

  it('reads a chunked refusal split mid-chunk, and an answer ended by EOF', async () => {
    const refused = cniError(await add({ pieces: ['HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n', REFUSAL.slice(0, 1), REFUSAL.slice(1, 30), REFUSAL.slice(30)], end: false }));
    expect(refused.code).toBe(101);
    expect(refused.msg).toContain('ERR_X: nft failed');
    expect(refused.details).toContain('Agent: h');
    const eof = await add({ pieces: ['HTTP/1.1 200 OK\r\n\r\n', '{"captured":false}'], end: true });
    expect(eof.exitCode, eof.stdout).toBe(0);
    const http10 = cniError(await add({ pieces: ['HTTP/1.0 404 Not Found\r\n\r\nnope'], end: true }));
    expect(http10).toMatchObject({ code: 102 });
    expect(http10.msg).toContain('HTTP 404 without an EnrollmentError body');
  });

  it.each<[string, Script, string]>([
    ['garbage', { pieces: ['garbage garbage\r\n\r\n'], end: true }, 'not an HTTP/1.1 answer: "garbage garbage"'],
    ['an SSH banner', { pieces: ['SSH-2.0-OpenSSH\r\n\r\n'], end: false }, 'not an HTTP/1.1 answer'],
    ['an oversized body without length', { pieces: ['HTTP/1.1 200 OK\r\n\r\n', 'x'.repeat(70_000)], end: true }, 'a body over 65536 bytes'],
    ['a content-length over the cap', { pieces: ['HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n'], end: false }, 'a body over 65536 bytes'],
    ['a negative content-length', { pieces: ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'], end: false }, 'bad content-length "-1"'],
    ['a malformed chunk size', { pieces: ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'], end: false }, 'a malformed chunk size'],
    ['a head over 16 KiB', { pieces: ['a'.repeat(20_000)], end: false }, 'an answer head over 16 KiB'],
    ['a head cut by EOF', { pieces: [OK.slice(0, 20)], end: true }, 'an answer without a complete head'],
    ['a body shorter than its length', { pieces: [OK.slice(0, -3)], end: true }, 'a body shorter than its content-length'],
    ['a chunked body cut by EOF', { pieces: ['HTTP/1.1 500 x\r\ntransfer-encoding: chunked\r\n\r\n', REFUSAL.slice(0, -7)], end: true }, 'a chunked body cut short'],
    ['200 with a body that is not an EnrollmentResponse', { pieces: ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]'], end: false }, 'an invalid EnrollmentResponse: []'],
  ])('%s → 102 (protocol)', async (_label, s, reason) => {
    const err = cniError(await add(s));
    expect(err.code, JSON.stringify(err)).toBe(102);
    expect(err.msg).toContain(reason);
    expect(err.details).toContain('ERR_WEFT_CNI_AGENT_PROTOCOL');
  });

  it.each<[string, Script]>([
    ['a body still incomplete', { pieces: [OK.slice(0, -3)], end: false }],
    ['a head still incomplete', { pieces: [OK.slice(0, 20)], end: false }],
    ['a chunked body without its last chunk', { pieces: ['HTTP/1.1 500 x\r\ntransfer-encoding: chunked\r\n\r\n', REFUSAL.slice(0, -7)], end: false }],
  ])('%s at the deadline → 11 (no answer in time)', async (_label, s) => {
    const run = await add(s, 500);
    const err = cniError(run);
    expect(err.code).toBe(11);
    expect(run.ms).toBeGreaterThanOrEqual(450);
  });

  it('a connection closed without an answer is retried until the budget runs out', async () => {
    const before = requests.length;
    const err = cniError(await add({ pieces: [], end: true }, 600));
    // 100 (the last attempt was closed too) or 11 (the budget ran out while the last attempt waited).
    expect([100, 11], JSON.stringify(err)).toContain(err.code);
    if (err.code === 100) expect(err.msg).toContain('closed without an answer');
    expect(requests.length - before).toBeGreaterThan(1);
  });
});
