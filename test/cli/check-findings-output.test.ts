// Pins how `weft check` reports findings: for people a table (CODE, SEVERITY, OBJECT, MESSAGE) with the
// fix under each row and the count on the last line; for scripts `-o json` with `findings` beside
// `checks` and `passed`; exit status 1 when a finding is an error, 0 when there are only warnings.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand } from '../../cli/commands/check.js';
import { capture, tempLab, writeYaml } from './cluster-fixture.js';

const route = (name: string, service: string): unknown => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'demo' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: service }], rules: [{}] },
});

describe('weft check: findings output and exit status', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab('t5');
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.web.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { ports: [{ port: 80 }] } });
  });
  afterEach(() => lab.cleanup());

  it('an error finding: a table row with its fix below, the count, exit 1', async () => {
    await writeYaml(join(lab.cluster, 'manifests', 'HTTPRoute.demo.r.yaml'), route('r', 'wbe'));
    const c = capture();
    expect(await checkCommand(lab.client, { pre: false, namespace: 'weft-system', output: 'table' }, c.printer)).toBe(1);
    expect(c.out).toContain('✖ routes: 1 error(s) in 1 route(s) (WEFT-C003 ParentRefNotFound)');
    const header = c.out.findIndex((l) => /^CODE\s+SEVERITY\s+OBJECT\s+MESSAGE$/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(c.out[header + 1]).toMatch(/^WEFT-C003\s+error\s+HTTPRoute demo\/r\s+parentRef Service demo\/wbe does not exist \(did you mean web\?\)$/);
    expect(c.out[header + 2]).toMatch(/^\s+fix: Correct spec.parentRefs to web; apply the corrected manifest/);
    expect(c.out.at(-1)).toBe('1 check failed; 1 finding (1 error, docs/check.md)');
  });

  it('-o json carries the findings; only warnings exit 0', async () => {
    await writeYaml(join(lab.cluster, 'manifests', 'HTTPRoute.demo.r.yaml'), route('r', 'web'));
    await writeYaml(join(lab.cluster, 'status', 'HTTPRoute.demo.r.yaml'), {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'demo' },
      status: { parents: [{ parentRef: { group: '', kind: 'Service', name: 'web' }, controllerName: 'weft.dev/waypoint-controller', conditions: [{ type: 'PartiallyInvalid', status: 'True', reason: 'UnsupportedValue', message: 'ignored: x' }] }] },
    });
    const c = capture();
    expect(await checkCommand(lab.client, { pre: false, namespace: 'weft-system', output: 'json' }, c.printer)).toBe(0);
    const doc = JSON.parse(c.out.join('\n')) as { passed: boolean; checks: { check: string; status: string }[]; findings: { code: string; severity: string; object: string }[] };
    expect(doc.passed).toBe(true);
    expect(doc.findings).toEqual([expect.objectContaining({ code: 'WEFT-C004', severity: 'warning', object: 'HTTPRoute demo/r' })]);
    expect(doc.checks.find((x) => x.check === 'routes')?.status).toBe('warn');
  });
});
