// Pins how the agent decides capture at CNI ADD: the control plane's `captured` flag, the pod-level
// `dataplane-mode=none` opt-out, namespace knowledge for pods not yet in state, and pod IPs/gateways
// taken from the CNI prevResult; plus the capture rules text and the atomic state file.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { hasCode } from '../../lib/errors/index.js';
import { captureRules } from '../../node-agent/enroll/capture.js';
import { addressesFromPrevResult, decideForUnknownPod, decideForWorkload } from '../../node-agent/enroll/enrollments.js';
import { StateFile, type EnrolledPod } from '../../node-agent/enroll/state-file.js';

const w = (o: Record<string, unknown>) => WorkloadSchema.parse({ uid: 'u', name: 'p', namespace: 'shop', ...o });

describe('node-agent enrollment decisions', () => {
  it('follows the captured flag and the none opt-out', () => {
    expect(decideForWorkload(w({ captured: true }))).toMatchObject({ captured: true });
    expect(decideForWorkload(w({ captured: false }))).toEqual({ captured: false, reason: 'namespace not labelled' });
    expect(decideForWorkload(w({ captured: true, labels: { 'weft.dev/dataplane-mode': 'none' } }))).toEqual({ captured: false, reason: 'weft.dev/dataplane-mode=none' });
  });

  it('uses namespace knowledge for a pod not yet in state', () => {
    const store = new StateStore();
    store.apply([{ kind: 'Workload', version: '1', upserts: [w({ uid: 'a', name: 'a', captured: true }), w({ uid: 'b', name: 'b', namespace: 'plain' })], removes: [], snapshotDone: true }]);
    expect(decideForUnknownPod(store, 'shop').captured).toBe(true);
    expect(decideForUnknownPod(store, 'plain').captured).toBe(false);
    expect(decideForUnknownPod(store, 'empty').captured).toBe(false);
  });

  it('reads IPs and gateways from prevResult, tolerating junk', () => {
    expect(addressesFromPrevResult({ ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1' }, { address: 'fd00::5/64' }, 7, null] })).toEqual({
      ips: ['10.244.1.5', 'fd00::5'],
      gateways: ['10.244.1.1'],
    });
    expect(addressesFromPrevResult(undefined)).toEqual({ ips: [], gateways: [] });
    expect(addressesFromPrevResult({ ips: 'nope' })).toEqual({ ips: [], gateways: [] });
  });
});

describe('node-agent capture rules text', () => {
  const text = captureRules({ netns: '/x', probeSources: ['10.244.1.1', 'fd00::1'] });
  it('replaces the weft table atomically and redirects to the right ports', () => {
    expect(text.startsWith('table inet weft\ndelete table inet weft\ntable inet weft {')).toBe(true);
    expect(text).toContain('meta l4proto tcp redirect to :15001');
    expect(text).toContain('meta l4proto tcp redirect to :15006');
    expect(text).toContain('tcp dport 15008 return');
  });
  it('exempts the agent mark, loopback and probe sources', () => {
    expect(text.match(/meta mark & 0xfff == 0x539 return/g)).toHaveLength(3);
    expect(text).toContain('iifname "lo" return');
    expect(text).toContain('ip saddr { 10.244.1.1 } return');
    expect(text).toContain('ip6 saddr { fd00::1 } return');
    expect(text).toContain('ct mark set 0x111');
    expect(text).toContain('meta mark set 0x111');
  });
});

describe('node-agent state file', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const pod = (name: string): EnrolledPod => ({ uid: name, namespace: 'shop', name, containerId: 'c', netns: `/var/run/netns/${name}`, ips: ['10.0.0.1'], probeSources: [], source: 'cni' });

  it('round-trips, keeps the last of concurrent saves, and leaves no temp file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-tstate-'));
    const f = new StateFile(join(dir, 'nested'));
    expect(await f.load()).toEqual({ pods: [], known: [] });
    await Promise.all([f.save([pod('a')]), f.save([pod('a'), pod('b')]), f.save([pod('c')], [pod('k')])]);
    const loaded = await f.load();
    expect(loaded.pods.map((p) => p.name)).toEqual(['c']);
    expect(loaded.known.map((p) => p.name)).toEqual(['k']);
    expect(await readdir(join(dir, 'nested'))).toEqual(['enrollments.json']);
    expect(JSON.parse(await readFile(f.path, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('makes its directory again when it was removed after the first save', async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'weft-tstate-'));
    const f = new StateFile(join(dir, 'again'));
    await f.save([pod('a')]);
    await rm(join(dir, 'again'), { recursive: true });
    await f.save([pod('b')]);
    expect((await f.load()).pods.map((p) => p.name)).toEqual(['b']);
  });

  it('reports a corrupt file with a typed error', async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'weft-tstate-'));
    const f = new StateFile(dir);
    await writeFile(f.path, '{"version":1,"pods":[{"uid":');
    await expect(f.load()).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_AGENT_STATE_FILE'));
  });
});
