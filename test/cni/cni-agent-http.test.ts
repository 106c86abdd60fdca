// Pins weft-cni's hand-written HTTP/1.1 client (it talks to the node agent over `node:net` to keep
// `node:http` out of every pod start): answers with a Content-Length, chunked answers, answers without
// a length ended by EOF, answers that arrive a few bytes at a time, and malformed or oversized answers
// (a protocol error, never a hang or a crash).
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../lib/errors/index.js';
import { enroll, parseAnswer } from '../../cni/plugin/agent-client.js';
import type { EnrollmentRequest } from '../../lib/enrollment.js';
import { tempDir } from './agent-double.js';

const REQ: EnrollmentRequest = { command: 'ADD', containerId: 'c1', netns: '/x', ifname: 'eth0', podNamespace: 'shop', podName: 'web', podUid: 'u', config: {} };

describe('weft-cni agent HTTP client', () => {
  it('parses complete, incomplete and malformed answers', () => {
    const ok = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 17\r\n\r\n{"captured":true}';
    expect(parseAnswer(Buffer.from(ok), false)).toEqual({ status: 200, body: '{"captured":true}' });
    expect(parseAnswer(Buffer.from(ok.slice(0, -3)), false)).toBeUndefined();
    expect(parseAnswer(Buffer.from(ok.slice(0, 20)), false)).toBeUndefined();
    expect(parseAnswer(Buffer.from(ok.slice(0, -3)), true)).toBeInstanceOf(Error);
    const chunked = 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"cod\r\nd;ext=1\r\ne":"X","m":1}\r\n0\r\n\r\n';
    expect(parseAnswer(Buffer.from(chunked), false)).toEqual({ status: 503, body: '{"code":"X","m":1}' });
    expect(parseAnswer(Buffer.from(chunked.slice(0, -7)), false)).toBeUndefined();
    expect(parseAnswer(Buffer.from('HTTP/1.0 404 Not Found\r\n\r\nnope'), false)).toBeUndefined();
    expect(parseAnswer(Buffer.from('HTTP/1.0 404 Not Found\r\n\r\nnope'), true)).toEqual({ status: 404, body: 'nope' });
    expect(parseAnswer(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), false)).toBeInstanceOf(Error);
    expect(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'), false)).toBeInstanceOf(Error);
    expect(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n'), false)).toBeInstanceOf(Error);
    expect(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), false)).toBeInstanceOf(Error);
    expect(parseAnswer(Buffer.alloc(20_000, 'a'), false)).toBeInstanceOf(Error);
  });

  describe('against a raw socket server', () => {
    let dir: string;
    let socket: string;
    let server: Server;
    /** What the server writes back, as pieces sent 10 ms apart; `end` closes after the last piece. */
    let script: { pieces: string[]; end: boolean } = { pieces: [], end: true };
    const requests: string[] = [];

    beforeAll(async () => {
      dir = tempDir('http');
      socket = join(dir, 'agent.sock');
      server = createServer((s: Socket) => {
        let got = '';
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => {
          got += d.toString('utf8');
          const head = got.indexOf('\r\n\r\n');
          const len = /content-length: (\d+)/i.exec(got)?.[1];
          if (head < 0 || got.length < head + 4 + Number(len ?? 0)) return;
          requests.push(got);
          const { pieces, end } = script;
          pieces.forEach((p, i) => setTimeout(() => (i === pieces.length - 1 && end ? s.end(p) : s.write(p)), 10 * i));
        });
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    const call = () => enroll(REQ, { socket, deadline: Date.now() + 3_000, retryConnectUntil: Date.now() + 3_000 });

    it('sends one well-formed request and reads an answer split into small pieces', async () => {
      const body = '{"captured":true,"reason":"enrolled"}';
      const raw = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      // Content-Length complete: the client answers without waiting for the server to close.
      script = { pieces: raw.match(/[\s\S]{1,7}/g)!, end: false };
      expect(await call()).toEqual({ captured: true, reason: 'enrolled' });
      const sent = requests.at(-1)!;
      expect(sent.startsWith('POST /v1/cni/add HTTP/1.1\r\n')).toBe(true);
      expect(sent).toMatch(/\r\ncontent-type: application\/json\r\n/);
      const [, payload] = sent.split('\r\n\r\n');
      expect(JSON.parse(payload)).toEqual(REQ);
      expect(Number(/content-length: (\d+)/.exec(sent)?.[1])).toBe(Buffer.byteLength(payload));
    });

    it('reads a chunked refusal and an answer ended by EOF', async () => {
      const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
      const pieces = [chunk('{"code":"ERR_X","message":"nft failed",'), chunk('"hint":"h"}'), '0\r\n\r\n'];
      // Split across writes in the middle of a chunk's size line and data.
      const raw = pieces.join('');
      script = { pieces: ['HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n', raw.slice(0, 1), raw.slice(1, 30), raw.slice(30)], end: false };
      await expect(call()).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_CNI_ENROLL_FAILED'));
      script = { pieces: ['HTTP/1.1 200 OK\r\n\r\n', '{"captured":false}'], end: true };
      expect(await call()).toEqual({ captured: false, reason: '' });
    });

    it('fails with a protocol error on garbage or an oversized body', async () => {
      script = { pieces: ['garbage garbage\r\n\r\n'], end: true };
      await expect(call()).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_CNI_AGENT_PROTOCOL'));
      script = { pieces: ['HTTP/1.1 200 OK\r\n\r\n', 'x'.repeat(70_000)], end: true };
      await expect(call()).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_CNI_AGENT_PROTOCOL'));
    });
  });
});
