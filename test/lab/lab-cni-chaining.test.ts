// Pins how the lab runs a conflist as a CNI 1.0 runtime: ADD in order with each result chained into the
// next plugin's prevResult, DEL in reverse with the cached result (all plugins even when one fails),
// CHECK in order, the CNI_* environment with K8S_POD_* in CNI_ARGS, runtimeConfig for declared
// capabilities only, and a plugin's error JSON surfacing as a typed error naming plugin and pod.
import { describe, expect, it } from 'vitest';
import { chainAdd, chainCheck, chainDel, resultIPv4, type PluginInvocation, type PluginOutcome } from '../../lab/cni-chain.js';
import { buildConflist } from '../../lab/cni-conflist.js';
import { hasCode } from '../../lib/errors/index.js';

const list = buildConflist({ nodeIndex: 1, podCIDR: '10.244.1.0/24', ipamDataDir: '/x/ipam', portmap: true, weftCniSocket: '/x/cni.sock' });
const rt = {
  containerId: 'c1',
  netns: '/run/netns/p',
  ifname: 'eth0',
  args: { K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'pod', K8S_POD_UID: 'uid-1' },
  binDirs: ['/bin1', '/bin2'],
  capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2 }] },
};

function recorder(fail?: { plugin: string; command: string }) {
  const calls: (PluginInvocation & { conf: Record<string, unknown> })[] = [];
  const invoke = (call: PluginInvocation): Promise<PluginOutcome> => {
    const conf = JSON.parse(call.stdin) as Record<string, unknown>;
    calls.push({ ...call, conf });
    if (fail && call.plugin === fail.plugin && call.env.CNI_COMMAND === fail.command) {
      return Promise.resolve({ code: 1, stdout: JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'boom', details: 'why' }), stderr: '' });
    }
    const prev = (conf.prevResult as { trail?: string[] } | undefined)?.trail ?? [];
    const result = { cniVersion: '1.0.0', ips: [{ address: '10.244.1.7/24' }], trail: [...prev, call.plugin] };
    return Promise.resolve({ code: 0, stdout: call.env.CNI_COMMAND === 'ADD' ? JSON.stringify(result) : '', stderr: '' });
  };
  return { calls, deps: { invoke, exists: (p: string) => p.startsWith('/bin2/'), podRef: 'ns/pod' } };
}

describe('conflist chaining', () => {
  it('ADD runs bridge, portmap, weft-cni in order, chaining prevResult, with the CNI env', async () => {
    const r = recorder();
    const result = await chainAdd(list, rt, r.deps);
    expect(r.calls.map((c) => c.plugin)).toEqual(['bridge', 'portmap', 'weft-cni']);
    expect(r.calls.map((c) => c.path)).toEqual(['/bin2/bridge', '/bin2/portmap', '/bin2/weft-cni']);
    expect(r.calls[0].conf.prevResult).toBeUndefined();
    expect((r.calls[1].conf.prevResult as { trail: string[] }).trail).toEqual(['bridge']);
    expect((r.calls[2].conf.prevResult as { trail: string[] }).trail).toEqual(['bridge', 'portmap']);
    expect(result.trail).toEqual(['bridge', 'portmap', 'weft-cni']);
    expect(resultIPv4(result)).toBe('10.244.1.7');
    for (const c of r.calls) {
      expect(c.conf.name).toBe('weft-lab');
      expect(c.conf.cniVersion).toBe('1.0.0');
      expect(c.env).toMatchObject({
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'c1',
        CNI_NETNS: '/run/netns/p',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/bin1:/bin2',
        CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_UID=uid-1',
      });
    }
  });

  it('gives runtimeConfig only to plugins that declare the capability', async () => {
    const r = recorder();
    await chainAdd(list, rt, r.deps);
    expect(r.calls[0].conf.runtimeConfig).toBeUndefined();
    expect(r.calls[1].conf.runtimeConfig).toEqual({ portMappings: [{ hostPort: 1, containerPort: 2 }] });
    expect(r.calls[1].conf.capabilities).toBeUndefined();
    expect(r.calls[2].conf.cni_socket).toBe('/x/cni.sock');
  });

  it('DEL runs in reverse with the cached result, and still calls every plugin when one fails', async () => {
    const cached = { cniVersion: '1.0.0', ips: [], trail: ['cached'] };
    const r = recorder({ plugin: 'portmap', command: 'DEL' });
    const err = await chainDel(list, rt, cached, r.deps).catch((e: unknown) => e);
    expect(r.calls.map((c) => c.plugin)).toEqual(['weft-cni', 'portmap', 'bridge']);
    for (const c of r.calls) expect(c.conf.prevResult).toEqual(cached);
    expect(hasCode(err, 'ERR_WEFT_LAB_CNI_FAILED')).toBe(true);
    expect((err as Error).message).toContain('portmap');
    expect((err as Error).message).toContain('code 11: boom (why)');
  });

  it('CHECK runs in order with the cached result', async () => {
    const cached = { cniVersion: '1.0.0', ips: [] };
    const r = recorder();
    await chainCheck(list, rt, cached, r.deps);
    expect(r.calls.map((c) => [c.plugin, c.env.CNI_COMMAND])).toEqual([
      ['bridge', 'CHECK'],
      ['portmap', 'CHECK'],
      ['weft-cni', 'CHECK'],
    ]);
    for (const c of r.calls) expect(c.conf.prevResult).toEqual(cached);
  });

  it('a failing ADD stops the chain and names the plugin and the pod', async () => {
    const r = recorder({ plugin: 'portmap', command: 'ADD' });
    const err = await chainAdd(list, rt, r.deps).catch((e: unknown) => e);
    expect(r.calls.map((c) => c.plugin)).toEqual(['bridge', 'portmap']);
    expect(hasCode(err, 'ERR_WEFT_LAB_CNI_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/ADD of plugin portmap for pod ns\/pod/);
  });

  it('a plugin missing from every bin dir is a clear error', async () => {
    const r = recorder();
    const err = await chainAdd(list, rt, { ...r.deps, exists: () => false }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_TOOL_MISSING')).toBe(true);
    expect(r.calls).toHaveLength(0);
  });

  it('leaves weft-cni out of the conflist when the node agent is not part of the lab', () => {
    const plain = buildConflist({ nodeIndex: 2, podCIDR: '10.244.2.0/24', ipamDataDir: '/d', portmap: false });
    expect(plain.plugins.map((p) => p.type)).toEqual(['bridge']);
    expect(plain.plugins[0]).toMatchObject({ ipMasq: false, ipam: { type: 'host-local', dataDir: '/d', ranges: [[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]] } });
  });
});
