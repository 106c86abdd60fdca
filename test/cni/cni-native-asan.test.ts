// Runs the fuzz corpus (test/cni/fuzz-corpus.ts), hand-picked hostile inputs, and fuzzed agent answers
// against weft-cni built with AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer
// (`build-cni.mjs --asan-only`, into a temp dir): any out-of-bounds access, use after free, leak or
// undefined behaviour in cni/native fails the test with the sanitizer's report. (Every other test in
// test/cni runs against that build with WEFT_CNI_PLUGIN=asan.)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble, type Reply } from './agent-double.js';
import { checkOutcome, makeCase } from './fuzz-corpus.js';
import { BRIDGE_RESULT, podEnv, runPlugin, SANITIZER_REPORT, weftConfig, type Run } from './run-plugin.js';

const BUILD = fileURLToPath(new URL('../../scripts/build-cni.mjs', import.meta.url));
const CASES = 400;
const PARALLEL = 16;

function clean(run: Run, what: string): void {
  expect(run.stderr, what).not.toMatch(SANITIZER_REPORT);
  expect([0, 1], `${what}: exit ${run.exitCode} ${run.stderr.slice(0, 4000)}`).toContain(run.exitCode);
}

describe('weft-cni under AddressSanitizer, LeakSanitizer and UBSan', () => {
  let dir: string;
  let bin: string;
  let agent: AgentDouble;
  beforeAll(async () => {
    dir = tempDir('asan');
    execFileSync(process.execPath, [BUILD, '--out', dir, '--asan-only'], { stdio: 'pipe' });
    bin = join(dir, 'weft-cni-asan');
    agent = await startAgentDouble();
  }, 120_000);
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${CASES} fuzzed configs and environments`, async () => {
    const replies: Reply[] = [
      { kind: 'ok', captured: true },
      { kind: 'error', status: 500, code: 'ERR_WEFT_AGENT_NOT_READY', message: 'no', hint: 'later' },
      { kind: 'raw', status: 200, body: '{"captured":"x"}' },
      { kind: 'raw', status: 503, body: '\u00ff\u0000' },
    ];
    for (let start = 0; start < CASES; start += PARALLEL) {
      agent.reply = replies[Math.floor(start / 48) % replies.length]!;
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL, CASES - start) }, async (_, k) => {
          const c = makeCase(start + k, agent.socket, dir);
          const run = await runPlugin(c.env, c.stdin, { bin, killAfterMs: c.budgetMs + 30_000 });
          checkOutcome(c, run, run.ms);
        }),
      );
    }
    expect(agent.requests.length).toBeGreaterThan(20);
  }, 600_000);

  it('hostile stdin: invalid UTF-8, escapes, deep nesting, duplicate and index keys, big numbers', async () => {
    agent.reply = { kind: 'ok', captured: true };
    const prev = JSON.stringify(BRIDGE_RESULT);
    const stdins: (string | Buffer)[] = [
      Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98]),
      `{"cniVersion":"1.0.0","name":"\\ud83d\\ude00\\ud800\\udc00\\u0000\\ud800","cni_socket":${JSON.stringify(agent.socket)},"prevResult":${prev}}`,
      `{"cniVersion":"1.0.0","name":"n","cni_socket":${JSON.stringify(agent.socket)},"prevResult":{"2":1,"1":[1e400,-1e-400,1e21,1e-7,123.456e-300],"b":{},"b":[],"4294967295":0,"ips":[]}}`,
      `{"cniVersion":"1.0.0","name":"n","a":${'['.repeat(5000)}`,
      `{"cniVersion":"1.0.0","name":"n","cni_socket":${JSON.stringify(agent.socket)},"prevResult":${prev},${Array.from({ length: 3000 }, (_, i) => `"k${i % 700}":${i}`).join(',')}}`,
      `{"cniVersion":"${'9'.repeat(5000)}"}`,
      `{"cniVersion":"1.0.0","name":"n","agent_timeout_ms":${'9'.repeat(400)}}`,
      `"\\u12`,
      `{"a":"\\x"}`,
      `[1,2,3,]`,
      `-`,
      `1.`,
      `1e+`,
      ' '.repeat(70_000),
      `{"cniVersion":"1.0.0","name":"${'é'.repeat(20_000)}","cni_socket":"${'/x'.repeat(200)}","prevResult":${prev}}`,
    ];
    for (const stdin of stdins) {
      for (const command of ['ADD', 'DEL', 'VERSION']) {
        const run = await runPlugin(podEnv(command), stdin.toString(), { bin });
        clean(run, `${command} with ${stdin.toString().slice(0, 80)}`);
      }
    }
    const envs: Record<string, string>[] = [
      podEnv('ADD', { CNI_CONTAINERID: '\u00e9'.repeat(200), CNI_ARGS: `${'x'.repeat(100)}` }),
      podEnv('ADD', { CNI_IFNAME: '\ud83d\ude00'.repeat(10) }),
      podEnv('ADD', { CNI_ARGS: ';;K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;K8S_POD_NAME=c;' }),
      podEnv('ADD', { WEFT_CNI_STDIN_TIMEOUT_MS: ' 0x10 ' }),
      podEnv('ADD', { WEFT_CNI_STDIN_MAX_BYTES: '1e3' }),
      podEnv('ADD', { WEFT_CNI_STDIN_MAX_BYTES: 'Infinity' }),
      podEnv('ADD', { WEFT_CNI_STDIN_MAX_BYTES: '8' }),
      podEnv('X'.repeat(100_000)),
    ];
    for (const env of envs) {
      const run = await runPlugin(env, JSON.stringify(weftConfig({ cni_socket: agent.socket })), { bin });
      clean(run, JSON.stringify(env).slice(0, 200));
    }
  }, 300_000);

  describe('fuzzed agent answers', () => {
    let server: Server;
    let socket: string;
    let answer = '';
    beforeAll(async () => {
      socket = join(dir, 'raw.sock');
      server = createServer((s: Socket) => {
        s.on('error', () => undefined);
        s.once('data', () => s.end(answer));
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('mutated HTTP answers end as a CNI result or error, cleanly', async () => {
      const seeds = [
        'HTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\n{"captured":true}',
        'HTTP/1.1 500 E\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"cod\r\nd;x\r\ne":"X","message":"m"}\r\n0\r\n\r\n',
        'HTTP/1.0 404 N\r\n\r\nnope',
        'HTTP/1.1 503 S\r\nContent-Length: 40\r\n\r\n{"code":"ERR_WEFT_AGENT_NOT_READY","message":"x"}',
      ];
      let a = 7;
      const rnd = (n: number): number => {
        a = (Math.imul(a, 1103515245) + 12345) >>> 0;
        return a % n;
      };
      const noise = ['\r\n', '\r\n\r\n', ':', ' ', '0', 'f', 'ffffffffffffffffff', '-', '\u00ff', '\u0000', 'chunked', 'content-length: 99999999\r\n'];
      for (let i = 0; i < 120; i++) {
        const chars = [...seeds[i % seeds.length]];
        for (let n = 1 + rnd(4); n > 0; n--) {
          const at = rnd(chars.length);
          const op = rnd(3);
          if (op === 0) chars[at] = String.fromCharCode(rnd(256));
          else if (op === 1) chars.splice(at, 1 + rnd(8));
          else chars.splice(at, 0, noise[rnd(noise.length)]);
        }
        answer = chars.join('');
        const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: socket, agent_timeout_ms: 150 })), { bin });
        clean(run, JSON.stringify(answer));
      }
    }, 300_000);
  });
});
