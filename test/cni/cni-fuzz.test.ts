// Pins robustness against whatever arrives on stdin: 1 000 seeded, fuzzed configs and environments
// (test/cni/fuzz-corpus.ts), each run as a real plugin process against an agent double that answers in
// four ways, give success or a well-formed CNI error with a spec/weft code — never a crash, an
// internal-error code, or a wait past the config's deadline. WEFT_CNI_PLUGIN=asan runs it against the
// sanitizer build (cni-native-asan.test.ts runs a share of it there on every run).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble, type Reply } from './agent-double.js';
import { checkOutcome, makeCase } from './fuzz-corpus.js';
import { runPlugin } from './run-plugin.js';

const CASES = 1_000;
const PARALLEL = 25;

describe('weft-cni fuzzed input', () => {
  let agent: AgentDouble;
  let dir: string;
  beforeAll(async () => {
    agent = await startAgentDouble();
    dir = tempDir('fuzz');
  });
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const replies: Reply[] = [
    { kind: 'ok', captured: true },
    { kind: 'ok', captured: false },
    { kind: 'error', status: 500, code: 'ERR_X', message: 'no' },
    { kind: 'raw', status: 200, body: '{' },
  ];

  it(`${CASES} configs as plugin processes: no crash, no hang, only known codes`, async () => {
    const seen = new Map<number, number>();
    for (let start = 0; start < CASES; start += PARALLEL) {
      agent.reply = replies[Math.floor(start / 50) % replies.length]!;
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL, CASES - start) }, async (_, k) => {
          const c = makeCase(start + k, agent.socket, dir);
          const run = await runPlugin(c.env, c.stdin, { killAfterMs: c.budgetMs + 15_000 });
          const code = checkOutcome(c, run, run.ms);
          seen.set(code, (seen.get(code) ?? 0) + 1);
        }),
      );
    }
    expect(agent.invalid).toEqual([]);
    // The fuzz must exercise the paths, not bounce off the first check: successes, agent round trips and
    // most error kinds all occur.
    expect(agent.requests.length).toBeGreaterThan(50);
    for (const code of [0, 4, 6, 7, 101, 102]) expect(seen.get(code) ?? 0, `outcomes ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  }, 600_000);
});
