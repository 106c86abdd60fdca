// Failure (issue 11): weft-control --source kube with a kubeconfig it cannot use died with a bare Node
// error (ENOENT, a YAML parser message) or, pointed at the wrong server, never became ready while an
// informer per kind retried in the log. Pins: an unreadable or unparsable kubeconfig is
// ERR_WEFT_SOURCE_KUBECONFIG_INVALID naming the file; a server that does not answer is
// ERR_WEFT_SOURCE_KUBE_UNREACHABLE naming the server, once the reach timeout is spent. (Credentials the
// server refuses: test/lab/helm-chart-kube.test.ts, against a real API server.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeSource } from '../../control/sources/kube.js';
import { hasCode } from '../../lib/errors/index.js';

let dir: string;
const saved = process.env.KUBECONFIG;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'weft-t-badkc-'));
});
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function kubeconfigFor(server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user: { token: 'x' } }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });
}

it('refuses a kubeconfig that is missing, a directory or not YAML, naming the file', async () => {
  const garbage = path.join(dir, 'garbage');
  await writeFile(garbage, 'clusters: [oops\n');
  for (const file of [path.join(dir, 'missing'), dir, garbage]) {
    process.env.KUBECONFIG = file;
    let err: unknown;
    try {
      new KubeSource();
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'ERR_WEFT_SOURCE_KUBECONFIG_INVALID'), String(err)).toBe(true);
    expect((err as Error).message).toContain(`cannot load the kubeconfig ${file}: `);
  }
});

it('gives up on a server that does not answer, naming it', async () => {
  // A port that accepts nothing: bound, then closed.
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigFor(`https://127.0.0.1:${port}`));
  const source = new KubeSource({ kubeConfig: kc, reachTimeoutMs: 800 });
  const err = await source.start().catch((e: unknown) => e);
  await source.stop();
  expect(hasCode(err, 'ERR_WEFT_SOURCE_KUBE_UNREACHABLE'), String(err)).toBe(true);
  expect((err as Error).message).toContain(`the Kubernetes API server https://127.0.0.1:${port} `);
  expect((err as Error).message).toMatch(/ECONNREFUSED/);
});
