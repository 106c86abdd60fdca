// Pins what ADD does when the node agent is not there or not answering: a bounded wait, then a CNI
// error the runtime retries (no captured pod may start unprotected), never a hang. Down (no socket, or a
// stale socket nobody listens on) → 100 after retrying for agent_timeout_ms; an agent that comes up
// within that window is found; slow (accepts, never answers) → 11 "try again later" at the deadline;
// a garbled answer → 102.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir } from './agent-double.js';
import { waitFor } from './run-install.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

describe('weft-cni with the node agent unavailable', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('unavail');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('no socket file → 100 after about agent_timeout_ms, saying what to check', async () => {
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: join(dir, 'none.sock'), agent_timeout_ms: 800 })));
    const err = cniError(run);
    expect(err.code).toBe(100);
    expect(err.msg).toContain('ENOENT');
    expect(err.msg).toContain(join(dir, 'none.sock'));
    expect(err.details).toContain('kubectl -n weft-system get pods');
    // It retried for the budget rather than giving up at once, and stopped near it.
    expect(run.ms).toBeGreaterThanOrEqual(800);
    expect(run.ms).toBeLessThan(800 + 8_000);
  });

  it('a stale socket file that refuses connections → 100', async () => {
    // A unix socket file left behind by a listener that was SIGKILLed, as after an agent crash (a clean
    // close would unlink it).
    const path = join(dir, 'stale.sock');
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(child.signal).toBe('SIGKILL');
    expect(existsSync(path)).toBe(true);
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: path, agent_timeout_ms: 300 }))));
    expect(err.code).toBe(100);
    expect(err.msg).toContain('ECONNREFUSED');
  });

  it('an agent that starts during the retry window is reached and ADD succeeds', async () => {
    const socket = join(dir, 'late.sock');
    const pending = runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: socket, agent_timeout_ms: 10_000 })));
    // Long enough that the plugin is already retrying: its attempts on a missing socket leave no trace to
    // wait for (the native plugin logs only its result), so elapsed time is the condition here.
    await new Promise((r) => setTimeout(r, 1_500));
    const agent = await startAgentDouble(socket);
    try {
      const run = await pending;
      expect(run.exitCode, run.stdout + run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
      expect(agent.requests).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('an agent that never answers → 11 (try again later) at the deadline', async () => {
    const agent = await startAgentDouble();
    agent.reply = { kind: 'hang' };
    try {
      const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, agent_timeout_ms: 700 })));
      const err = cniError(run);
      expect(err.code).toBe(11);
      expect(err.details).toContain('ERR_WEFT_CNI_AGENT_TIMEOUT');
      expect(run.ms).toBeGreaterThanOrEqual(700);
      expect(run.ms).toBeLessThan(700 + 8_000);
    } finally {
      await agent.close();
    }
  });

  it('an agent slower than the budget → 11; within the budget → success', async () => {
    const agent = await startAgentDouble();
    try {
      agent.delayMs = 2_000;
      expect(cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, agent_timeout_ms: 400 })))).code).toBe(11);
      agent.delayMs = 200;
      const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, agent_timeout_ms: 8_000 })));
      expect(run.exitCode, run.stdout).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('an agent answering 503 (starting) is asked again within the budget; still 503 at the end → its error', async () => {
    const agent = await startAgentDouble();
    try {
      agent.reply = { kind: 'error', status: 503, code: 'ERR_WEFT_AGENT_NOT_READY', message: 'the node agent is not ready: syncing', hint: 'wait' };
      const pending = runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, agent_timeout_ms: 10_000 })));
      // Switch to ready only after the plugin got its first 503 (its start-up time varies with load).
      await waitFor('the first ADD', () => agent.requests.length > 0);
      agent.reply = { kind: 'ok', captured: true };
      const run = await pending;
      expect(run.exitCode, run.stdout).toBe(0);
      expect(agent.requests.length).toBeGreaterThan(1);

      agent.reply = { kind: 'error', status: 503, code: 'ERR_WEFT_AGENT_NOT_READY', message: 'the node agent is not ready: syncing' };
      const late = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, agent_timeout_ms: 2_000 })));
      const err = cniError(late);
      // The agent's own code carries CNI code 50 ("plugin not available") in the shared error table.
      expect(err.code).toBe(50);
      expect(err.msg).toContain('syncing');
      expect(late.ms).toBeLessThan(2_000 + 8_000);
    } finally {
      await agent.close();
    }
  });

  it.each([
    ['200 with a non-JSON body', { kind: 'raw', status: 200, body: 'OK' }],
    ['200 without captured', { kind: 'raw', status: 200, body: '{"reason":"x"}' }],
    ['503 without an EnrollmentError', { kind: 'raw', status: 503, body: '<html>busy</html>' }],
  ] as const)('agent answering %s → 102', async (_label, reply) => {
    const agent = await startAgentDouble();
    agent.reply = reply;
    try {
      const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket }))));
      expect(err.code).toBe(102);
    } finally {
      await agent.close();
    }
  });
});
