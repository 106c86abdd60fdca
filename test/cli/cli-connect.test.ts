// Pins: how a command picks its cluster — --lab names a lab (missing → ERR_WEFT_LAB_NOT_FOUND); a
// kubeconfig ($KUBECONFIG or --kubeconfig, with --context) wins otherwise; with no kubeconfig the one
// running lab is used, several are refused as ambiguous, none gives ERR_WEFT_CLI_NO_CLUSTER naming both.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectCluster } from '../../cli/kube/connect.js';
import { hasCode } from '../../lib/errors/index.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: { server: "https://127.0.0.1:6443" }
- name: two
  cluster: { server: "https://127.0.0.2:6443" }
users:
- name: u
  user: { token: t }
contexts:
- name: one
  context: { cluster: one, user: u }
- name: two
  context: { cluster: two, user: u }
current-context: one
`;

describe('choosing the cluster', () => {
  let dir: string;
  let labRoot: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-t-cli-connect-'));
    labRoot = join(dir, 'labs');
    env = { HOME: join(dir, 'home'), WEFT_LAB_ROOT: labRoot };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A lab as `up` leaves it: lab.json (what makes it a running lab) naming its admin kubeconfig. */
  const addLab = async (name: string): Promise<void> => {
    const root = join(labRoot, name);
    await mkdir(root, { recursive: true });
    const kubeconfig = join(root, 'admin.kubeconfig');
    await writeFile(kubeconfig, KUBECONFIG);
    await writeFile(join(root, 'lab.json'), JSON.stringify({ name, nodes: [], createdAt: '', distDir: '/nonexistent', agent: false, control: false, kube: { server: 'https://172.30.0.254:6443', hostPort: 1, kubeconfig } }));
  };

  it('uses the kubeconfig from $KUBECONFIG, and --context selects another cluster', async () => {
    await writeFile(join(dir, 'kc'), KUBECONFIG);
    await addLab('lab');
    const c = await connectCluster({}, { ...env, KUBECONFIG: join(dir, 'kc') });
    expect(c.target).toEqual({ kind: 'kubernetes', context: 'one', server: 'https://127.0.0.1:6443' });
    const c2 = await connectCluster({ context: 'two' }, { ...env, KUBECONFIG: join(dir, 'kc') });
    expect(c2.target).toMatchObject({ context: 'two', server: 'https://127.0.0.2:6443' });
    const err = await connectCluster({ context: 'three' }, { ...env, KUBECONFIG: join(dir, 'kc') }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_KUBECONFIG_INVALID')).toBe(true);
  });

  it('--lab picks that lab even when a kubeconfig exists', async () => {
    await writeFile(join(dir, 'kc'), KUBECONFIG);
    await addLab('lab');
    const c = await connectCluster({ lab: 'lab' }, { ...env, KUBECONFIG: join(dir, 'kc') });
    expect(c.target).toEqual({ kind: 'lab', name: 'lab', dir: join(labRoot, 'lab') });
    const err = await connectCluster({ lab: 'other' }, env).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_NOT_FOUND')).toBe(true);
  });

  it('without a kubeconfig: the one running lab, several refused, none explained', async () => {
    const none = await connectCluster({}, env).catch((e: unknown) => e);
    expect(hasCode(none, 'ERR_WEFT_CLI_NO_CLUSTER')).toBe(true);
    expect((none as Error).message).toContain(labRoot);
    await addLab('a');
    expect((await connectCluster({}, env)).target).toMatchObject({ kind: 'lab', name: 'a' });
    await addLab('b');
    const two = await connectCluster({}, env).catch((e: unknown) => e);
    expect(hasCode(two, 'ERR_WEFT_CLI_LAB_AMBIGUOUS')).toBe(true);
    expect((two as Error).message).toContain('a, b');
  });
});
