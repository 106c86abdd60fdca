// Failure (issue 11): the AuthorizationPolicy CRD lived under crds/, which Helm installs once and
// `helm upgrade` never touches, so an upgraded chart kept serving the old schema. Pins: the CRD is part
// of the rendered templates (what `helm upgrade` applies), kept on `helm uninstall`
// (helm.sh/resource-policy: keep), and left out with crds.install=false. test/lab/helm-chart-kube.test.ts
// runs the upgrade itself against a real API server.
import { afterAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART, cleanupHelmHome, describeHelm, helm, type Rendered } from './chart.js';

const NAME = 'authorizationpolicies.security.weft.dev';

async function templates(extra: readonly string[] = []): Promise<Rendered[]> {
  // No --include-crds: only what `helm install/upgrade` applies as part of the release.
  const r = await helm(['template', 'weft', CHART, '--namespace', 'mesh', ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Rendered | null).filter((o): o is Rendered => o !== null);
}

describeHelm('the chart\'s CRDs are templates', () => {
  afterAll(cleanupHelmHome);

  it('renders the CRD as a release object that helm uninstall keeps', async () => {
    const crd = (await templates()).find((o) => o.kind === 'CustomResourceDefinition' && o.metadata.name === NAME);
    expect(crd?.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
  });

  it('leaves the CRDs to the user with crds.install=false', async () => {
    expect((await templates(['--set', 'crds.install=false'])).some((o) => o.kind === 'CustomResourceDefinition')).toBe(false);
  });

  it('keeps nothing under crds/, which helm upgrade would never upgrade', async () => {
    const r = await helm(['show', 'crds', CHART]);
    expect(r.stdout.trim()).toBe('');
  });
});
