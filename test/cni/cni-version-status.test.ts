// Pins the commands that do not enroll a pod: VERSION reports the spec versions weft-cni speaks (in the
// version the runtime asked for, with no config needed), STATUS (CNI 1.1) succeeds only while the node
// agent answers its health check with 200 (and not `ok: false`) and otherwise returns 50 "plugin not available", and GC succeeds
// without touching the agent (the agent garbage-collects enrollments itself).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, type AgentDouble } from './agent-double.js';
import { cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

describe('weft-cni VERSION, STATUS and GC', () => {
  let agent: AgentDouble;
  beforeAll(async () => {
    agent = await startAgentDouble();
  });
  afterAll(async () => {
    await agent.close();
  });

  it('VERSION lists the supported versions, with or without stdin', async () => {
    for (const [stdin, version] of [['', '1.1.0'], ['{"cniVersion":"0.4.0"}', '0.4.0'], ['{"cniVersion":"9.9.9"}', '1.1.0'], ['garbage', '1.1.0']]) {
      const run = await runPlugin({ CNI_COMMAND: 'VERSION' }, stdin);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ cniVersion: version, supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    }
  });

  it('STATUS succeeds while the agent is healthy', async () => {
    agent.healthz = 200;
    const run = await runPlugin({ CNI_COMMAND: 'STATUS' }, JSON.stringify(weftConfig({ cniVersion: '1.1.0', cni_socket: agent.socket, prevResult: undefined })));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toBe('');
  });

  it('STATUS → 50 when the agent is unhealthy or absent', async () => {
    agent.healthz = 503;
    const sick = cniError(await runPlugin({ CNI_COMMAND: 'STATUS' }, JSON.stringify(weftConfig({ cniVersion: '1.1.0', cni_socket: agent.socket }))));
    expect(sick).toMatchObject({ cniVersion: '1.1.0', code: 50 });
    agent.healthz = 200;
    agent.healthzBody = '{"ok":false}';
    const starting = cniError(await runPlugin({ CNI_COMMAND: 'STATUS' }, JSON.stringify(weftConfig({ cniVersion: '1.1.0', cni_socket: agent.socket }))));
    expect(starting.code).toBe(50);
    expect(starting.msg).toContain('ok: false');
    agent.healthzBody = '{"ok":true}';
    const gone = cniError(await runPlugin({ CNI_COMMAND: 'STATUS' }, JSON.stringify(weftConfig({ cniVersion: '1.1.0', cni_socket: join('/nonexistent', 'x.sock'), agent_timeout_ms: 300 }))));
    expect(gone.code).toBe(50);
    expect(gone.msg).toContain('ENOENT');
  });

  it('GC succeeds without asking the agent', async () => {
    const before = agent.requests.length;
    const run = await runPlugin(podEnv('GC'), JSON.stringify(weftConfig({ cniVersion: '1.1.0', cni_socket: agent.socket, 'cni.dev/valid-attachments': [] })));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(agent.requests.length).toBe(before);
  });
});
