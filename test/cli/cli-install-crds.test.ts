// Failure: Helm installs a chart's crds/ once and never upgrades them, so after `weft install` of a newer
// weft the cluster kept serving the old AuthorizationPolicy schema. Pins: `weft install` applies the
// chart's CRDs server-side (field manager weft, forced: it takes over fields Helm set) before Helm runs,
// replacing an older CRD, and Helm is told to skip them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { helmArgs } from '../../cli/commands/install.js';
import { applyChartCrds } from '../../cli/kube/chart-crds.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { CHART } from '../helm/chart.js';
import { kubeClient } from './cluster-fixture.js';

const NAME = 'authorizationpolicies.security.weft.dev';
let api: KubeApiServerDouble;

beforeEach(async () => {
  api = await KubeApiServerDouble.start();
});
afterEach(() => api.close());

it('replaces an older CRD with the chart\'s, by server-side apply', async () => {
  api.put({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: NAME, annotations: { 'weft.dev/bundle-version': 'v0.0.1' } },
    spec: { group: 'security.weft.dev', scope: 'Namespaced', names: { kind: 'AuthorizationPolicy', plural: 'authorizationpolicies' }, versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
  });
  const chartCrd = parse(await readFile(join(CHART, 'crds', `${NAME}.yaml`), 'utf8')) as { metadata: { annotations: Record<string, string> }; spec: { versions: unknown[] } };

  expect(await applyChartCrds(kubeClient(api), CHART)).toEqual([NAME]);

  const stored = api.getObject('customresourcedefinitions', undefined, NAME, 'apiextensions.k8s.io') as unknown as typeof chartCrd;
  expect(stored.metadata.annotations['weft.dev/bundle-version']).toBe(chartCrd.metadata.annotations['weft.dev/bundle-version']);
  expect(stored.spec.versions).toEqual(chartCrd.spec.versions);
  const patch = api.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`/customresourcedefinitions/${NAME}`));
  expect(patch?.query).toMatchObject({ fieldManager: 'weft', force: 'true' });
});

it('creates the CRD on a cluster that has none', async () => {
  await applyChartCrds(kubeClient(api), CHART);
  expect(api.getObject('customresourcedefinitions', undefined, NAME, 'apiextensions.k8s.io')).toBeDefined();
});

it('helm skips the CRDs weft install applied', () => {
  const args = helmArgs({ namespace: 'weft-system', release: 'weft', chart: CHART, set: [], values: [], dryRun: false, wait: false, timeout: 60 });
  expect(args).toContain('--skip-crds');
});
