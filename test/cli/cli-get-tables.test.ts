// Pins what `weft get` prints from a component's answer (cli/admin/get-views.ts, cli/commands/get.ts):
// one aligned table per kind with the columns people read (workloads: identity, captured, waypoint;
// policies: scope, action, rules, dry-run; certificates: serial, validity, time to expiry, root
// fingerprint; config: dotted keys), `-o json` with the rows alone (no wrapper a script must peel), and
// "no <kind>" rather than a lone header. Failure it guards: a certificate table whose "expires in" was
// computed against another clock than the one passed in, or config objects printed as [object Object].
import { describe, expect, it } from 'vitest';
import { flatten, formatDuration } from '../../cli/admin/get-views.js';
import { printGet } from '../../cli/commands/get.js';
import type { Printer } from '../../cli/output.js';

function capture(): Printer & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(...l.split('\n')), err: (l) => lines.push(`stderr: ${l}`) };
}

const NOW = Date.parse('2026-12-07T12:00:00Z');

describe('weft get: tables and JSON', () => {
  it('workloads: one row per workload, identity, capture and waypoint', () => {
    const p = capture();
    const answer = {
      component: 'node agent n1',
      workloads: [
        { namespace: 'ex', name: 'client', ips: ['10.244.1.2'], node: 'n1', identity: 'spiffe://cluster.local/ns/ex/sa/client', captured: true, waypoint: undefined, mtlsMode: 'permissive', ready: true },
        { namespace: 'ex', name: 'web', ips: [], node: '', identity: 'spiffe://cluster.local/ns/ex/sa/web', captured: false, waypoint: 'ex/waypoint', mtlsMode: 'strict', ready: true },
      ],
    };
    printGet(p, 'workloads', answer, 'table', NOW);
    expect(p.lines).toEqual([
      'NAMESPACE   NAME     IP           NODE   IDENTITY                                 CAPTURED   WAYPOINT',
      'ex          client   10.244.1.2   n1     spiffe://cluster.local/ns/ex/sa/client   yes        -',
      'ex          web      -            -      spiffe://cluster.local/ns/ex/sa/web      no         ex/waypoint',
    ]);
    const j = capture();
    printGet(j, 'workloads', answer, 'json', NOW);
    expect(JSON.parse(j.lines.join('\n'))).toEqual(JSON.parse(JSON.stringify(answer.workloads)));
  });

  it('policies: scope, action, rule count, dry-run', () => {
    const p = capture();
    printGet(p, 'policies', { policies: [{ namespace: 'ex', name: 'no-admin-posts', scope: 'service web', action: 'DENY', rules: 1, dryRun: false }] }, 'table', NOW);
    expect(p.lines).toEqual(['NAMESPACE   NAME             SCOPE         ACTION   RULES   DRY-RUN', 'ex          no-admin-posts   service web   DENY     1       no']);
  });

  it('certificates: serial, validity, time to expiry from the given clock, root fingerprint', () => {
    const p = capture();
    const fp = 'AB:'.repeat(31) + 'CD';
    printGet(
      p,
      'certificates',
      {
        certificates: [
          { identity: 'spiffe://cluster.local/ns/ex/sa/client', serial: '0a1b', notBefore: '2026-12-07T11:55:00.000Z', notAfter: '2026-12-08T11:55:00.000Z', expiresInSeconds: 1, rootFingerprint: fp, chainLength: 1 },
          { identity: 'spiffe://cluster.local/ns/ex/sa/old', serial: 'ff', notBefore: '2026-12-06T11:00:00.000Z', notAfter: '2026-12-07T11:50:00.000Z', expiresInSeconds: 1, rootFingerprint: undefined, chainLength: 1 },
        ],
      },
      'table',
      NOW,
    );
    expect(p.lines[0]).toMatch(/^IDENTITY\s+SERIAL\s+NOT BEFORE\s+NOT AFTER\s+EXPIRES IN\s+ROOT SHA-256$/);
    expect(p.lines[1]).toMatch(new RegExp(`^spiffe://cluster.local/ns/ex/sa/client\\s+0a1b\\s+2026-12-07T11:55:00.000Z\\s+2026-12-08T11:55:00.000Z\\s+23h55m\\s+${fp}$`));
    expect(p.lines[2]).toMatch(/expired 10m0s ago\s+not under a trusted root$/);
  });

  it('config: nested keys dotted, lists joined, objects never [object Object]', () => {
    const p = capture();
    printGet(p, 'config', { config: { node: 'n1', limits: { perPod: 100 }, roots: ['a', 'b'], peers: [{ a: 1 }], empty: {} }, generation: 3 }, 'table', NOW);
    expect(p.lines).toEqual(['KEY             VALUE', 'node            n1', 'limits.perPod   100', 'roots           a,b', 'peers           {"a":1}', 'empty           {}']);
    const j = capture();
    printGet(j, 'config', { config: { node: 'n1' }, generation: 3 }, 'json', NOW);
    expect(JSON.parse(j.lines.join('\n'))).toEqual({ node: 'n1' });
    expect(flatten({}, '')).toEqual([]);
  });

  it('says "no <kind>" for an empty answer in a table, [] in JSON', () => {
    const p = capture();
    printGet(p, 'policies', { policies: [] }, 'table', NOW);
    expect(p.lines).toEqual(['no policies']);
    const j = capture();
    printGet(j, 'policies', { policies: [] }, 'json', NOW);
    expect(j.lines).toEqual(['[]']);
  });

  it('durations read as people say them', () => {
    expect([formatDuration(5), formatDuration(250), formatDuration(86_340), formatDuration(90_000), formatDuration(-61)]).toEqual(['5s', '4m10s', '23h59m', '1d1h', 'expired 1m1s ago']);
  });
});
