// Pins policy dry-run at the waypoint (L7): an AuthorizationPolicy annotated `weft.dev/dry-run: "true"`
// is evaluated per request, logged ("policy dry-run: would_deny", naming the policy and rule) and counted
// in weft_authz_dry_run_total{reporter="waypoint"}, but not enforced: the request reaches the backend and
// weft_waypoint_denied_total stays empty. Enforced policies beside it still deny.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLinesLogger } from '../support/json-lines.js';
import { httpBackend, policy, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint L7 authorization dry-run', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  const { lines, log } = jsonLinesLogger();

  beforeAll(async () => {
    web = await httpBackend((_req, res) => res.end('ok'));
    lab = await startLab({ log });
    const s = service('web', '10.96.0.60', 80, [web]);
    lab.setState({
      services: [s.service],
      workloads: s.workloads,
      routes: [route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })],
      policies: [
        policy({ name: 'deny-admin-dry', dryRun: true, targets: [{ kind: 'service', name: 'web' }], action: 'DENY', rules: [{ to: [{ methods: ['POST'], paths: ['/admin*'] }] }] }),
        policy({ name: 'deny-secret', targets: [{ kind: 'service', name: 'web' }], action: 'DENY', rules: [{ to: [{ paths: ['/secret'] }] }] }),
      ],
    });
    port = await lab.listen('10.96.0.60:80');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
  });

  it('a request the dry-run policy would deny is served, logged and counted as would_deny', async () => {
    const before = web.hits;
    for (let i = 0; i < 3; i++) {
      const r = await request(`http://127.0.0.1:${port}/admin/users`, { method: 'POST', body: 'x' });
      expect(r.statusCode).toBe(200);
      await r.body.text();
    }
    expect(web.hits - before).toBe(3);
    const text = await lab.registry.metrics();
    expect(text).toContain('weft_authz_dry_run_total{reporter="waypoint",policy="demo/deny-admin-dry",rule="0",verdict="would_deny"} 3');
    expect(text).not.toMatch(/weft_waypoint_denied_total\{/);
    const line = lines.find((l) => l.dry_run === 'would_deny');
    expect(line).toMatchObject({ msg: 'policy dry-run: would_deny', policy: 'demo/deny-admin-dry', rule: 0, enforced: 'allow', service: 'demo/web', method: 'POST', path: '/admin/users' });
  });

  it('a request it would not deny counts would_allow; an enforced DENY beside it still denies', async () => {
    const r = await request(`http://127.0.0.1:${port}/`);
    expect(r.statusCode).toBe(200);
    await r.body.text();
    const denied = await request(`http://127.0.0.1:${port}/secret`);
    expect(denied.statusCode).toBe(403);
    await denied.body.text();
    const text = await lab.registry.metrics();
    expect(text).toContain('weft_authz_dry_run_total{reporter="waypoint",policy="none",rule="none",verdict="would_allow"} 1');
    expect(text).toContain('weft_authz_dry_run_total{reporter="waypoint",policy="demo/deny-secret",rule="0",verdict="would_deny"} 1');
    expect(text).toMatch(/weft_waypoint_denied_total\{[^}]*policy="demo\/deny-secret"[^}]*\} 1/);
  });
});
