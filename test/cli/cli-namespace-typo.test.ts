// Failure: `weft namespace enable <typo>` against a lab created the namespace from the typo (labelling a
// namespace with no Namespace object wrote one), and `weft waypoint apply -n <typo>` wrote a Gateway into a
// namespace that does not exist. Pins: both are ERR_WEFT_CLI_NOT_FOUND and write nothing, as against the
// Kubernetes API (cli/on-kube/namespace.ts); a namespace that exists only through its objects (the lab's
// implicit namespaces) works.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setNamespaceMode } from '../../cli/commands/namespace.js';
import { applyWaypoint } from '../../cli/commands/waypoint.js';
import { hasCode } from '../../lib/errors/index.js';
import { tempLab, writeYaml } from './cluster-fixture.js';

describe('a namespace typo against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
    // `demo` exists the lab way: a Service lives in it, no Namespace object.
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.backend.yaml'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'backend', namespace: 'demo' },
      spec: { selector: { app: 'backend' }, ports: [{ port: 8080 }] },
    });
  });
  afterEach(() => lab.cleanup());

  const manifests = async (): Promise<string[]> => (await readdir(join(lab.cluster, 'manifests'))).sort();

  it('namespace enable <typo> is ERR_WEFT_CLI_NOT_FOUND and creates nothing', async () => {
    const err = await setNamespaceMode(lab.client, 'demoo', true).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('demoo');
    expect(await manifests()).toEqual(['Service.demo.backend.yaml']);
  });

  it('waypoint apply -n <typo> is ERR_WEFT_CLI_NOT_FOUND and writes no Gateway', async () => {
    const err = await applyWaypoint(lab.client, { namespace: 'demoo', name: 'waypoint', for: 'service' }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_NOT_FOUND')).toBe(true);
    expect(await manifests()).toEqual(['Service.demo.backend.yaml']);
  });

  it('the implicit namespace demo (objects, no Namespace) can be enabled', async () => {
    await setNamespaceMode(lab.client, 'demo', true);
    expect(await manifests()).toEqual(['Namespace.demo.yaml', 'Service.demo.backend.yaml']);
  });
});
