// Pins: the chart passes real `helm lint --strict` for the default, HA and external-CA values, and a real
// install dry run prints NOTES that tell the user what to do next. A template or Chart.yaml error fails here.
import { afterAll, expect, it } from 'vitest';
import { CHART, EXTERNAL_CA_VALUES, HA_VALUES, cleanupHelmHome, describeHelm, helm } from './chart.js';

describeHelm('helm lint --strict', () => {
  afterAll(cleanupHelmHome);

  it.each([
    ['default values', []],
    ['HA values', ['--values', HA_VALUES]],
    ['external CA values', ['--values', EXTERNAL_CA_VALUES]],
    ['HA + external CA', ['--values', HA_VALUES, '--values', EXTERNAL_CA_VALUES]],
  ])('lints clean with %s', async (_name, args) => {
    const r = await helm(['lint', '--strict', CHART, ...args]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it('NOTES tell the user to run weft check, label a namespace and deploy a waypoint', async () => {
    const r = await helm(['install', 'weft', CHART, '--namespace', 'weft-system', '--dry-run=client']);
    expect(r.code, r.stderr).toBe(0);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toContain('weft check');
    expect(notes).toContain('weft.dev/dataplane-mode=ambient');
    expect(notes).toContain('weft waypoint apply');
    expect(notes).toContain('control.replicaCount=3');
  });
});
