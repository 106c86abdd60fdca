// Pins how the control plane decides a workload's effective mTLS mode (ARCHITECTURE.md, "mTLS mode"):
// the pod's `weft.dev/mtls-mode` label wins over its namespace's, which wins over the mesh default
// (`--mtls-mode-default`, permissive unless set); a value that is not a mode falls through to the next
// level; and relabelling a namespace recompiles its workloads. Before this the Workload had no mode at
// all, so a strict namespace could not reach the node agent.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler, type CompileOptions } from '../../control/discovery/compile.js';
import type { SourceChange } from '../../control/sources/source.js';
import { clusterDir, namespace, pod, type ClusterDir } from './compile-fixtures.js';
import { eventually } from '../support/eventually.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const MODE = 'weft.dev/mtls-mode';
const objects = [
  namespace('strict-ns', { [MODE]: 'strict' }),
  namespace('perm-ns', { [MODE]: 'permissive' }),
  namespace('bare-ns'),
  pod('s-default', { ns: 'strict-ns', uid: 'u1' }),
  pod('s-perm', { ns: 'strict-ns', uid: 'u2', labels: { [MODE]: 'permissive' } }),
  pod('p-strict', { ns: 'perm-ns', uid: 'u3', labels: { [MODE]: 'strict' } }),
  pod('p-default', { ns: 'perm-ns', uid: 'u4' }),
  pod('b-default', { ns: 'bare-ns', uid: 'u5' }),
  pod('b-typo', { ns: 'bare-ns', uid: 'u6', labels: { [MODE]: 'STRICT!' } }),
  pod('s-typo', { ns: 'strict-ns', uid: 'u7', labels: { [MODE]: 'off' } }),
];

async function compiled(options: Partial<CompileOptions>): Promise<(uid: string) => string> {
  cluster = await clusterDir(objects);
  const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors', ...options });
  c.rebuild();
  return (uid) => c.workloads.get(uid)!.value.mtlsMode;
}

describe('compile: effective mTLS mode', () => {
  it('pod label wins over namespace label, which wins over the default (permissive)', async () => {
    const mode = await compiled({});
    expect(mode('u1')).toBe('strict');
    expect(mode('u2')).toBe('permissive');
    expect(mode('u3')).toBe('strict');
    expect(mode('u4')).toBe('permissive');
    expect(mode('u5')).toBe('permissive');
  });

  it('the mesh default applies only where neither pod nor namespace sets a mode', async () => {
    const mode = await compiled({ mtlsModeDefault: 'strict' });
    expect(mode('u5')).toBe('strict');
    expect(mode('u4')).toBe('permissive');
    expect(mode('u2')).toBe('permissive');
  });

  it('a value that is not a mode falls through to the namespace, then the default', async () => {
    const mode = await compiled({ mtlsModeDefault: 'permissive' });
    expect(mode('u6')).toBe('permissive');
    expect(mode('u7')).toBe('strict');
  });

  it('labelling a namespace strict recompiles its workloads and reports them changed', async () => {
    cluster = await clusterDir([namespace('late'), pod('x', { ns: 'late', uid: 'ux' })]);
    const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    c.rebuild();
    expect(c.workloads.get('ux')!.value.mtlsMode).toBe('permissive');
    const changed: string[] = [];
    cluster.source.on('change', (batch: readonly SourceChange[]) => {
      changed.push(...(c.update(batch).get('Workload') ?? []));
    });
    await cluster.write(namespace('late', { [MODE]: 'strict' }));
    await eventually(() => changed.includes('ux'), 15_000, 'workload ux recompiled');
    expect(c.workloads.get('ux')!.value.mtlsMode).toBe('strict');
  });
});
