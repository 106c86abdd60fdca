// Pins the conflist edit itself (cni/install/conflist.ts, also the lab's API): every real-CNI fixture
// gets weft-cni appended exactly once, last, with every other plugin and top-level field unchanged; a
// .conf becomes a conflist; chaining our own output again returns it byte-identical; changed options
// replace the entry rather than add a second; configs it cannot understand are refused, not rewritten.
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../lib/errors/index.js';
import { chainWeft, parseCniConfig, unchainWeft, weftEntry } from '../../cni/install/conflist.js';
import { BROKEN, FIXTURES } from './fixtures.js';

const opts = { cniSocket: '/var/run/weft/cni.sock', excludeNamespaces: ['kube-system', 'weft-system'] };

describe('chainWeft over real-CNI config shapes', () => {
  it('has all six CNIs among the fixtures', () => {
    expect(FIXTURES.map((f) => f.name)).toEqual(
      expect.arrayContaining(['05-cilium.conflist', '10-aws.conflist', '10-bridge.conf', '10-calico.conflist', '10-containerd-net.conflist', '10-flannel.conflist', '10-kindnet.conflist']),
    );
  });

  it.each(FIXTURES.map((f) => [f.name, f.text] as const))('%s: weft-cni appended once, last, nothing else changed', (name, text) => {
    const before = JSON.parse(text) as Record<string, unknown>;
    const out = chainWeft(text, { ...opts, file: name });
    expect(out.changed).toBe(true);
    const after = JSON.parse(out.text) as { plugins: Record<string, unknown>[] } & Record<string, unknown>;
    expect(after.plugins.at(-1)).toEqual({ type: 'weft-cni', cni_socket: '/var/run/weft/cni.sock', exclude_namespaces: ['kube-system', 'weft-system'] });
    expect(after.plugins.filter((p) => p.type === 'weft-cni')).toHaveLength(1);
    if (name.endsWith('.conf')) {
      expect(out.converted).toBe(true);
      expect(after).toMatchObject({ cniVersion: before.cniVersion, name: before.name });
      expect(after.plugins[0]).toEqual(before);
    } else {
      expect(out.converted).toBe(false);
      const { plugins: beforePlugins, ...beforeTop } = before as { plugins: unknown[] };
      const { plugins: afterPlugins, ...afterTop } = after;
      expect(afterTop).toEqual(beforeTop);
      expect(afterPlugins.slice(0, -1)).toEqual(beforePlugins);
    }
    // Idempotent: our own output is left byte-identical.
    const again = chainWeft(out.text, { ...opts, file: name });
    expect(again).toEqual({ text: out.text, changed: false, converted: false });
    // And reversible: removing the entry gives the original plugins back.
    expect((JSON.parse(unchainWeft(out.text).text) as { plugins: unknown[] }).plugins).toEqual(name.endsWith('.conf') ? [before] : before.plugins);
  });

  it('replaces an entry whose options changed instead of adding a second one', () => {
    const first = chainWeft(FIXTURES.find((f) => f.name === '10-calico.conflist')!.text, opts).text;
    const second = chainWeft(first, { ...opts, cniSocket: '/run/weft/other.sock', agentTimeoutMs: 2000 });
    expect(second.changed).toBe(true);
    const plugins = (JSON.parse(second.text) as { plugins: Record<string, unknown>[] }).plugins;
    expect(plugins.filter((p) => p.type === 'weft-cni')).toEqual([weftEntry({ ...opts, cniSocket: '/run/weft/other.sock', agentTimeoutMs: 2000 })]);
    expect(plugins.map((p) => p.type)).toEqual(['calico', 'portmap', 'bandwidth', 'weft-cni']);
  });

  it('moves a weft-cni entry that is not last to the end', () => {
    const text = JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'bridge' }, weftEntry(opts), { type: 'portmap' }] });
    const out = chainWeft(text, opts);
    expect((JSON.parse(out.text) as { plugins: { type: string }[] }).plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'weft-cni']);
  });

  it.each<[string, string]>([
    ...BROKEN.map((b): [string, string] => [b.name, b.text]),
    ['array', '[]'],
    ['plugins not a list', '{"cniVersion":"1.0.0","name":"x","plugins":{}}'],
    ['empty plugins', '{"cniVersion":"1.0.0","name":"x","plugins":[]}'],
    ['a plugin without type', '{"cniVersion":"1.0.0","name":"x","plugins":[{"name":"a"}]}'],
    ['no cniVersion', '{"name":"x","plugins":[{"type":"bridge"}]}'],
    ['conf without type', '{"cniVersion":"1.0.0","name":"x"}'],
  ])('refuses %s with ERR_WEFT_CNI_INSTALL_UNPARSEABLE', (_name, text) => {
    let caught: unknown;
    try {
      chainWeft(text, opts);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE')).toBe(true);
  });

  it('accepts a CNI 1.1 conflist that declares cniVersions', () => {
    const parsed = parseCniConfig('{"cniVersion":"9.0.0","cniVersions":["1.0.0","1.1.0"],"name":"x","plugins":[{"type":"bridge"}]}', 'x.conflist');
    expect(parsed.kind).toBe('conflist');
  });
});
