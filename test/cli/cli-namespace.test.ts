// Pins: `weft namespace enable|disable` sets and removes weft.dev/dataplane-mode=ambient on the Namespace,
// keeps the namespace's other labels, and works the same against the Kubernetes API and against a lab
// directory (where a namespace that exists only through its objects gets a Namespace object, as namespaces
// are implicit there).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { namespaceCommand, setNamespaceMode } from '../../cli/commands/namespace.js';
import { hasCode } from '../../lib/errors/index.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { capture, kubeClient, tempLab, writeYaml } from './cluster-fixture.js';

describe('weft namespace against the Kubernetes API', () => {
  let api: KubeApiServerDouble;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { team: 'a' } } });
  });
  afterEach(() => api.close());

  it('enable labels the namespace ambient and keeps other labels; disable removes only that label', async () => {
    const c = capture();
    expect(await namespaceCommand(kubeClient(api), 'enable', 'demo', 'table', c.printer)).toBe(0);
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels).toEqual({ team: 'a', 'weft.dev/dataplane-mode': 'ambient' });
    expect(c.out[0]).toContain('weft.dev/dataplane-mode=ambient');
    await setNamespaceMode(kubeClient(api), 'demo', false);
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels).toEqual({ team: 'a' });
    // A merge patch, not a read-modify-write: the CLI never races a concurrent label change.
    expect(api.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/demo')).toHaveLength(2);
  });

  it('a missing namespace is ERR_WEFT_CLI_NOT_FOUND', async () => {
    const err = await setNamespaceMode(kubeClient(api), 'nope', true).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_NOT_FOUND')).toBe(true);
  });

  it('JSON output is the resulting state', async () => {
    const c = capture();
    await namespaceCommand(kubeClient(api), 'enable', 'demo', 'json', c.printer);
    expect(JSON.parse(c.out.join('\n'))).toEqual({ namespace: 'demo', dataplaneMode: 'ambient', waypoint: null });
  });
});

describe('weft namespace against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.backend.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'demo' }, spec: { ports: [{ port: 8080 }] } });
  });
  afterEach(() => lab.cleanup());

  it('writes the Namespace into manifests/ with uid and creationTimestamp, and removes the label on disable', async () => {
    await setNamespaceMode(lab.client, 'demo', true);
    const file = join(lab.cluster, 'manifests', 'Namespace.demo.yaml');
    const ns = parse(await readFile(file, 'utf8')) as { metadata: { labels: Record<string, string>; uid: string; creationTimestamp: string } };
    expect(ns.metadata.labels).toEqual({ 'weft.dev/dataplane-mode': 'ambient' });
    expect(ns.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const uid = ns.metadata.uid;
    await setNamespaceMode(lab.client, 'demo', false);
    const after = parse(await readFile(file, 'utf8')) as { metadata: { labels: Record<string, string>; uid: string } };
    expect(after.metadata.labels).toEqual({});
    expect(after.metadata.uid).toBe(uid);
  });
});
