// Pins how `weft check` judges the workload certificates node agents and waypoints report on
// /debug/certificates: expired is WEFT-C033; less than a quarter of its lifetime left (renewal at
// half-life has failed for a while) is WEFT-C032; --cert-expiry-threshold replaces that quarter; the fix
// names the holder's log in the lab. Against Kubernetes the admin endpoints listen on loopback: the line is
// skipped with the command that shows them, without asking the cluster anything.
import { describe, expect, it } from 'vitest';
import { analyzerContext } from '../../cli/check/analyze.js';
import { certificateFindings, judgeCertificates } from '../../cli/check/certificate-findings.js';
import type { CertificateSummary } from '../../lib/identity/index.js';
import { KubeClusterClient } from '../../lib/kube/kube-cluster.js';
import { kubeConfigWithToken } from '../support/kube-server.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;
const cert = (identity: string, issuedHoursAgo: number, lifetimeHours = 24): CertificateSummary => ({
  identity,
  serial: 'ab12',
  notBefore: new Date(NOW.getTime() - issuedHoursAgo * HOUR).toISOString(),
  notAfter: new Date(NOW.getTime() + (lifetimeHours - issuedHoursAgo) * HOUR).toISOString(),
  expiresInSeconds: (lifetimeHours - issuedHoursAgo) * 3600,
  rootFingerprint: undefined,
  chainLength: 1,
});

describe('weft check: workload certificates', () => {
  const client = { target: { kind: 'lab', name: 't4', dir: '/nonexistent/t4/cluster' } as const };
  const ctx = (certExpirySeconds?: number) => ({ client, now: NOW, certExpirySeconds });

  it('fresh and half-life certificates pass; under a quarter of the lifetime is C032; expired is C033', () => {
    const certs = [cert('spiffe://cluster.local/ns/demo/sa/fresh', 1), cert('spiffe://cluster.local/ns/demo/sa/half', 12), cert('spiffe://cluster.local/ns/demo/sa/late', 20), cert('spiffe://cluster.local/ns/demo/sa/gone', 25)];
    const findings = judgeCertificates(ctx(), { kind: 'agent', node: 'n1' }, certs);
    expect(findings).toEqual([
      {
        code: 'WEFT-C032',
        severity: 'warning',
        object: 'certificate spiffe://cluster.local/ns/demo/sa/late at node agent n1',
        message: 'expires in 4h0m (2026-12-07T16:00:00.000Z, serial ab12), under the threshold of 6h0m: it should have renewed at half-life',
        fix: 'Its log says why renewal fails: `weft lab logs agent-n1 --lab t4`',
      },
      expect.objectContaining({ code: 'WEFT-C033', severity: 'error', object: 'certificate spiffe://cluster.local/ns/demo/sa/gone at node agent n1', message: expect.stringMatching(/^expired 1h0m ago/) as string }),
    ]);
  });

  it('--cert-expiry-threshold replaces the quarter of the lifetime', () => {
    const certs = [cert('spiffe://cluster.local/ns/demo/sa/half', 12)];
    expect(judgeCertificates(ctx(13 * 3600), { kind: 'waypoint', namespace: 'demo', name: 'waypoint' }, certs).map((f) => [f.code, f.object])).toEqual([
      ['WEFT-C032', 'certificate spiffe://cluster.local/ns/demo/sa/half at waypoint demo/waypoint'],
    ]);
    expect(judgeCertificates(ctx(3600), { kind: 'agent', node: 'n1' }, [cert('spiffe://cluster.local/ns/demo/sa/late', 20)])).toEqual([]);
  });

  it('against Kubernetes the line is skipped with how to see them', async () => {
    // A server nobody listens on: the analyzer must not need one.
    const kube = new KubeClusterClient(kubeConfigWithToken('https://127.0.0.1:1', '/nonexistent/ca.crt', 'unused'));
    const a = await certificateFindings(analyzerContext(kube, { meshNamespace: 'weft-system', now: NOW, caExpirySeconds: 0, certExpirySeconds: undefined }));
    expect(a.findings).toEqual([]);
    expect(a.skipped).toContain('`weft get certificates --node <node> --admin <host:port>`');
  });
});
