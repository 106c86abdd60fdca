// Pins DEL and CHECK. DEL is forwarded but best-effort: with the agent down or failing it still succeeds
// (quickly, with one attempt) and logs why, because a failing DEL leaves pods stuck in Terminating and
// the agent reconciles on its own. CHECK is forwarded and fails when the agent says the pod is broken or
// cannot be asked (the spec wants CHECK to report a missing daemon the pod depends on).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble } from './agent-double.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

describe('weft-cni DEL and CHECK', () => {
  let agent: AgentDouble;
  let dir: string;
  beforeAll(async () => {
    agent = await startAgentDouble();
    dir = tempDir('delcheck');
  });
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('DEL forwards to the agent, prints nothing and succeeds', async () => {
    agent.reply = { kind: 'ok', captured: false };
    const run = await runPlugin(podEnv('DEL'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(agent.requests.at(-1)).toMatchObject({ path: '/v1/cni/del', body: { command: 'DEL', podName: 'web-7d4f9' } });
    expect(agent.invalid).toEqual([]);
  });

  it('DEL without CNI_NETNS and prevResult is still forwarded (the netns may be gone)', async () => {
    const config = weftConfig({ cni_socket: agent.socket });
    delete config.prevResult;
    const run = await runPlugin(podEnv('DEL', { CNI_NETNS: undefined }), JSON.stringify(config));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(agent.requests.at(-1)?.body, run.stderr).toMatchObject({ command: 'DEL', netns: '' });
    expect(agent.requests.at(-1)?.body.prevResult).toBeUndefined();
  });

  it('DEL with a malformed prevResult still reaches the agent, without it', async () => {
    const run = await runPlugin(podEnv('DEL'), JSON.stringify(weftConfig({ cni_socket: agent.socket, prevResult: { ips: 'garbage' } })));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(agent.requests.at(-1)?.body).toMatchObject({ command: 'DEL', podName: 'web-7d4f9' });
    expect(agent.requests.at(-1)?.body.prevResult).toBeUndefined();
  });

  it('DEL succeeds when the agent is down, at once, and logs why', async () => {
    const log = join(dir, 'cni.log');
    const run = await runPlugin(podEnv('DEL'), JSON.stringify(weftConfig({ cni_socket: join(dir, 'absent.sock'), agent_timeout_ms: 10_000, log_file: log })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    // About a second of connection retries, not the 10 s budget ADD would use.
    expect(run.ms).toBeLessThan(5_000);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.level === 'warn' && String(l.error).includes('ENOENT') && l.pod === 'shop/web-7d4f9')).toBe(true);
  });

  it('DEL succeeds when the agent answers an error', async () => {
    agent.reply = { kind: 'error', status: 500, code: 'ERR_X', message: 'boom' };
    const run = await runPlugin(podEnv('DEL'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain('boom');
  });

  it('CHECK forwards with prevResult and succeeds silently when the agent agrees', async () => {
    agent.reply = { kind: 'ok', captured: true };
    const run = await runPlugin(podEnv('CHECK'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(agent.requests.at(-1)).toMatchObject({ path: '/v1/cni/check', body: { command: 'CHECK', prevResult: BRIDGE_RESULT } });
  });

  it('CHECK fails with the agent error when the pod is not as expected', async () => {
    agent.reply = { kind: 'error', status: 409, code: 'ERR_WEFT_AGENT_NOT_ENROLLED', message: 'pod shop/web-7d4f9 has no capture rules' };
    const err = cniError(await runPlugin(podEnv('CHECK'), JSON.stringify(weftConfig({ cni_socket: agent.socket }))));
    expect(err.code).toBe(101);
    expect(err.msg).toContain('no capture rules');
  });

  it('CHECK fails with 100 when the agent cannot be reached', async () => {
    const err = cniError(await runPlugin(podEnv('CHECK'), JSON.stringify(weftConfig({ cni_socket: join(dir, 'absent.sock'), agent_timeout_ms: 300 }))));
    expect(err.code).toBe(100);
  });

  it('CHECK without prevResult is an invalid config (7)', async () => {
    const config = weftConfig({ cni_socket: agent.socket });
    delete config.prevResult;
    expect(cniError(await runPlugin(podEnv('CHECK'), JSON.stringify(config))).code).toBe(7);
  });
});
