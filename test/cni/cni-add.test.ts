// Pins ADD as a chained plugin: the pod's CNI environment, config and prevResult reach the node agent in
// the lib/enrollment.ts shape, and the previous result comes back on stdout unchanged (in the config's
// version) — a plugin that rewrote or dropped the result would leave pods without an IP in the runtime.
// Excluded namespaces and non-Kubernetes containers pass without asking; an agent refusal fails ADD
// (CNI code 101, or the CNI code the shared error table gives the agent's own code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type ErrorSpec } from '../../lib/errors/index.js';
import { startAgentDouble, type AgentDouble } from './agent-double.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

describe('weft-cni ADD', () => {
  let agent: AgentDouble;
  beforeAll(async () => {
    agent = await startAgentDouble();
  });
  afterAll(async () => {
    await agent.close();
  });

  it('forwards the pod to the agent and prints prevResult unchanged', async () => {
    agent.reply = { kind: 'ok', captured: true, reason: 'enrolled' };
    const before = agent.requests.length;
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
    expect(agent.invalid).toEqual([]);
    expect(agent.requests.length).toBe(before + 1);
    const { path, body } = agent.requests.at(-1)!;
    expect(path).toBe('/v1/cni/add');
    expect(body).toMatchObject({
      command: 'ADD',
      containerId: 'c0ffee01',
      netns: '/var/run/netns/weft-test-pod',
      ifname: 'eth0',
      podNamespace: 'shop',
      podName: 'web-7d4f9',
      podUid: '3f1c6a52-0c1e-4b6e-9a55-2c3a1e0b9d11',
      prevResult: BRIDGE_RESULT,
    });
    expect(body.config).toMatchObject({ name: 'weft-lab', type: 'weft-cni', cni_socket: agent.socket });
    expect(body.config).not.toHaveProperty('prevResult');
  });

  it('prints the result in the config cniVersion and keeps unknown result fields', async () => {
    const prev = { ...BRIDGE_RESULT, cniVersion: '0.4.0', extra: { vendor: 'x' } };
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cniVersion: '0.4.0', cni_socket: agent.socket, prevResult: prev })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(prev);
    expect(run.stdout.startsWith('{"cniVersion":"0.4.0"')).toBe(true);
  });

  it('passes a pod that the agent does not capture through', async () => {
    agent.reply = { kind: 'ok', captured: false, reason: 'namespace not labelled' };
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
  });

  it('passes excluded namespaces through without asking the agent', async () => {
    const before = agent.requests.length;
    for (const ns of ['kube-system', 'weft-system']) {
      const run = await runPlugin(podEnv('ADD', { CNI_ARGS: `K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=coredns-1` }), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
      expect(run.exitCode, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
    }
    const custom = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket, exclude_namespaces: ['shop'] })));
    expect(custom.exitCode, custom.stderr).toBe(0);
    expect(agent.requests.length).toBe(before);
  });

  it('passes a container that is not a Kubernetes pod through without asking', async () => {
    const before = agent.requests.length;
    const run = await runPlugin(podEnv('ADD', { CNI_ARGS: undefined }), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(BRIDGE_RESULT);
    expect(agent.requests.length).toBe(before);
  });

  it('fails ADD with code 101 and the agent message when the agent refuses the pod', async () => {
    agent.reply = { kind: 'error', status: 500, code: 'ERR_SOME_FUTURE_AGENT_CODE', message: 'nft: table weft exists', hint: 'restart the agent' };
    const run = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    const err = cniError(run);
    expect(err.code).toBe(101);
    expect(err.cniVersion).toBe('1.0.0');
    expect(err.msg).toContain('shop/web-7d4f9');
    expect(err.msg).toContain('nft: table weft exists');
    expect(err.details).toContain('ERR_WEFT_CNI_ENROLL_FAILED');
    expect(err.details).toContain('restart the agent');
  });

  it('fails ADD with the CNI code the shared error table gives the agent code', async () => {
    const table: Readonly<Record<string, ErrorSpec>> = codes;
    const agentCode = Object.keys(table).find((c) => c.startsWith('ERR_WEFT_AGENT_') && table[c].cni !== undefined);
    expect(agentCode, 'the node agent defines codes with CNI numbers').toBeDefined();
    agent.reply = { kind: 'error', status: 500, code: agentCode!, message: 'it failed' };
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket }))));
    expect(err.code).toBe(table[agentCode!].cni);
    expect(err.msg).toContain('it failed');
  });
});
