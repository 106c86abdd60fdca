// Pins the CNI error contract for bad input: every malformed invocation ends with the spec's error JSON
// ({cniVersion, code, msg, details}) on stdout, a non-zero exit and the spec's code — 4 for the
// environment, 6 for undecodable stdin, 7 for an invalid config or prevResult, 1 for a version we do not
// speak — never a stack trace, a zero exit or a hang.
import { describe, expect, it } from 'vitest';
import { cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

const ok = JSON.stringify(weftConfig({ cni_socket: '/nonexistent/weft-test.sock', agent_timeout_ms: 200 }));

describe('weft-cni error results', () => {
  it.each([
    ['not JSON', '{"cniVersion": "1.0.0", name'],
    ['empty stdin', ''],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"ADD"'],
  ])('stdin %s → 6 (decode failure)', async (_label, stdin) => {
    const err = cniError(await runPlugin(podEnv('ADD'), stdin));
    expect(err.code).toBe(6);
    expect(err.details).toContain('ERR_WEFT_CNI_CONFIG_DECODE');
    expect(Object.keys(err).sort()).toEqual(['cniVersion', 'code', 'details', 'msg']);
  });

  it.each([
    ['CNI_COMMAND unset', podEnv('ADD', { CNI_COMMAND: undefined })],
    ['unknown CNI_COMMAND', podEnv('FROB')],
    ['CNI_CONTAINERID unset', podEnv('ADD', { CNI_CONTAINERID: undefined })],
    ['CNI_CONTAINERID malformed', podEnv('ADD', { CNI_CONTAINERID: '-bad id' })],
    ['CNI_NETNS unset on ADD', podEnv('ADD', { CNI_NETNS: undefined })],
    ['CNI_IFNAME unset', podEnv('ADD', { CNI_IFNAME: undefined })],
    ['CNI_IFNAME too long', podEnv('ADD', { CNI_IFNAME: 'eth0123456789012' })],
    ['CNI_IFNAME with a slash', podEnv('CHECK', { CNI_IFNAME: 'et/h0' })],
    ['CNI_ARGS pair without =', podEnv('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE=shop;garbage' })],
    ['CNI_CONTAINERID unset on DEL', podEnv('DEL', { CNI_CONTAINERID: undefined })],
  ])('%s → 4 (invalid environment)', async (_label, env) => {
    const err = cniError(await runPlugin(env, ok));
    expect(err.code).toBe(4);
    expect(err.cniVersion).toBe('1.0.0');
    expect(err.details).toContain('ERR_WEFT_CNI_ENV_INVALID');
  });

  it.each([
    ['no prevResult on ADD', { prevResult: undefined }],
    ['prevResult a string', { prevResult: 'ok' }],
    ['prevResult.ips not an array', { prevResult: { cniVersion: '1.0.0', ips: {} } }],
    ['prevResult.ips without address', { prevResult: { cniVersion: '1.0.0', ips: [{ gateway: '10.0.0.1' }] } }],
    ['cniVersion missing', { cniVersion: undefined }],
    ['name not a string', { name: 7 }],
    ['cni_socket empty', { cni_socket: '' }],
    ['exclude_namespaces not a list', { exclude_namespaces: 'kube-system' }],
    ['agent_timeout_ms zero', { agent_timeout_ms: 0 }],
    ['agent_timeout_ms over the cap', { agent_timeout_ms: 3_600_000 }],
    ['log_level unknown', { log_level: 'trace' }],
  ])('%s → 7 (invalid network config)', async (_label, over) => {
    const config: Record<string, unknown> = JSON.parse(ok) as Record<string, unknown>;
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete config[k];
      else config[k] = v;
    }
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(config)));
    expect(err.code).toBe(7);
    expect(err.details).toContain('ERR_WEFT_CNI_CONFIG_INVALID');
  });

  it('no prevResult on ADD says weft-cni must be chained', async () => {
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ prevResult: undefined }))));
    expect(err.msg).toMatch(/chained after the primary CNI plugin/);
  });

  it('an unsupported cniVersion → 1 (incompatible version)', async () => {
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cniVersion: '0.2.0' }))));
    expect(err.code).toBe(1);
    expect(err.msg).toContain('0.2.0');
  });

  it('errors are reported in the config cniVersion when it is supported', async () => {
    const err = cniError(await runPlugin(podEnv('FROB'), JSON.stringify(weftConfig({ cniVersion: '0.4.0' }))));
    expect(err).toMatchObject({ cniVersion: '0.4.0', code: 4 });
  });
});
