// Pins: `weft namespace enable|disable` sets and removes weft.dev/dataplane-mode=ambient on the Namespace,
// keeps the namespace's other labels, here against a lab directory (where a namespace that exists only
// through its objects gets a Namespace object, as namespaces are implicit there). Against a real API
// server: cli/on-kube/namespace.ts, run by test/kube-api-server.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setNamespaceMode } from '../../cli/commands/namespace.js';
import { tempLab, writeYaml } from './cluster-fixture.js';

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
