// Pins the host kubeconfig of a lab: written with the CA, certificate and key inline (so a copy made with
// `weft lab kubeconfig --raw > file` works for a user who cannot read the lab's key files), named after
// the lab; and `weft lab kubeconfig` refuses, with ERR_WEFT_LAB_KUBE_NOT_RUNNING naming the lab, a lab
// without an API server or whose loopback forward is not running.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labKubeconfig } from '../../lab/kube/lab-kubeconfig.js';
import { writeControlPlanePki, writeKubeconfig, type ControlPlanePki } from '../../lab/kube/pki.js';
import { labPaths } from '../../lab/names.js';
import { procStartTime } from '../../lab/processes.js';
import type { LabInfo } from '../../lab/state.js';
import { hasCode, isWeftError } from '../../lib/errors/index.js';

describe('lab kubeconfig', () => {
  let root: string;
  let pki: ControlPlanePki;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-tkcfg-'));
    pki = await writeControlPlanePki(join(root, 'pki'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('inlines the CA, certificate and key, and names the context after the lab', async () => {
    const path = await writeKubeconfig(join(root, 'admin.kubeconfig'), pki, 'admin', 'https://127.0.0.1:40123', { name: 'weft-lab7', inline: true });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(root); // no path into the lab's files
    const c = JSON.parse(text) as {
      clusters: { name: string; cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
      'current-context': string;
    };
    expect(c['current-context']).toBe('weft-lab7');
    expect(c.clusters[0]).toMatchObject({ name: 'weft-lab7', cluster: { server: 'https://127.0.0.1:40123' } });
    const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
    expect(decode(c.clusters[0].cluster['certificate-authority-data'])).toBe(readFileSync(pki.caCert, 'utf8'));
    expect(decode(c.users[0].user['client-certificate-data'])).toBe(readFileSync(pki.clients.admin.cert, 'utf8'));
    expect(decode(c.users[0].user['client-key-data'])).toBe(readFileSync(pki.clients.admin.key, 'utf8'));
  });

  it('refuses a lab without an API server, or whose forward is not running', async () => {
    const stateRoot = join(root, 'state');
    const paths = labPaths('lab7', stateRoot);
    const base: LabInfo = { name: 'lab7', nodes: [], createdAt: '', distDir: '', agent: false, control: false };
    const refusal = async (info: LabInfo): Promise<string> => {
      const err = await labKubeconfig(info, stateRoot).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_LAB_KUBE_NOT_RUNNING')).toBe(true);
      if (!isWeftError(err)) throw err;
      return err.message;
    };
    expect(await refusal(base)).toMatch(/^lab lab7 has no Kubernetes API server/);

    const kubeconfig = join(root, 'admin.kubeconfig');
    const withKube: LabInfo = { ...base, kube: { server: 'https://172.30.0.254:6443', hostPort: 40123, kubeconfig } };
    // Recorded, but not this pid's start time: a forward that died (and whose pid may be reused).
    await mkdir(paths.procs, { recursive: true });
    await writeFile(join(paths.procs, 'kube-forward.json'), JSON.stringify({ id: 'kube-forward', pid: process.pid, startTime: '1', argv: [], log: '', startedAt: '' }));
    expect(await refusal(withKube)).toContain('kube-forward (127.0.0.1:40123)');

    await writeFile(join(paths.procs, 'kube-forward.json'), JSON.stringify({ id: 'kube-forward', pid: process.pid, startTime: procStartTime(process.pid), argv: [], log: '', startedAt: '' }));
    expect(await labKubeconfig(withKube, stateRoot)).toEqual({ path: kubeconfig, content: readFileSync(kubeconfig, 'utf8') });
  });
});
