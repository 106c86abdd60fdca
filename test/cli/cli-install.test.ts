// Pins: `weft install --dry-run` renders the chart through real Helm (values passed through --set and
// --values), a value the chart's schema refuses comes back as ERR_WEFT_CLI_HELM_FAILED carrying Helm's
// message (exit 1), a malformed --set is a usage error (exit 2), and the install arguments are Helm's.
import { afterAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmArgs, installCommand, type InstallOptions } from '../../cli/commands/install.js';
import { reportError } from '../../cli/output.js';
import { hasCode } from '../../lib/errors/index.js';
import { CHART, HA_VALUES, HELM, cleanupHelmHome, describeHelm } from '../helm/chart.js';
import { capture } from './cluster-fixture.js';

const base: InstallOptions = { namespace: 'weft-system', release: 'weft', chart: CHART, set: [], values: [], dryRun: true, wait: true, timeout: 300 };

describeHelm('weft install', () => {
  afterAll(cleanupHelmHome);

  it('--dry-run prints the manifests with --set and --values applied', async () => {
    const c = capture();
    expect(await installCommand({ ...base, set: ['logLevel=debug'], values: [HA_VALUES], namespace: 'mesh' }, c.printer, HELM)).toBe(0);
    const objs = parseAllDocuments(c.out.join('\n')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: { replicas?: number } } | null).filter((o) => o !== null);
    const control = objs.find((o) => o.kind === 'Deployment');
    expect(control?.metadata.namespace).toBe('mesh');
    expect(control?.spec?.replicas).toBe(3);
    expect(objs.some((o) => o.kind === 'CustomResourceDefinition')).toBe(true);
    expect(c.out.join('\n')).toContain('value: "debug"');
  });

  it('a value the schema refuses is a helm failure with helm\'s own words, exit 1', async () => {
    const err = await installCommand({ ...base, set: ['control.replicas=3'] }, capture().printer, HELM).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_HELM_FAILED')).toBe(true);
    expect((err as Error).message).toContain("additional properties 'replicas' not allowed");
    const c = capture();
    expect(reportError(c.printer, err)).toBe(1);
    expect(c.err[0]).toMatch(/^error ERR_WEFT_CLI_HELM_FAILED: /);
    expect(c.err[0]).toContain('hint: ');
  });

  it('a --set without = is a usage error, exit 2', async () => {
    const err = await installCommand({ ...base, set: ['control.replicaCount'] }, capture().printer, HELM).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_USAGE')).toBe(true);
    expect(reportError(capture().printer, err)).toBe(2);
  });
});

it('install runs helm upgrade --install into a created namespace, waiting, with the kube context; Helm installs and upgrades the CRDs (templates)', () => {
  expect(helmArgs({ ...base, dryRun: false, set: ['a=b'], kubeconfig: '/k', context: 'ctx' })).toEqual([
    'upgrade', '--install', 'weft', CHART, '--namespace', 'weft-system', '--set', 'a=b', '--create-namespace', '--wait', '--timeout', '300s', '--kubeconfig', '/k', '--kube-context', 'ctx',
  ]);
  // CRDs from an install made before they were templates belong to no release: Helm takes them over once.
  expect(helmArgs({ ...base, dryRun: false, takeOwnership: true })).toEqual(expect.arrayContaining(['--take-ownership', '--force-conflicts']));
});
