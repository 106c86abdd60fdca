// Pins `weft check` against a lab (a client whose target is a lab: its own API server): the lab's control
// plane and agents are processes, not a Deployment and a DaemonSet, so the lab's checks run instead of the
// cluster's — pods not Ready and waypoints not Programmed fail with the lab command that shows why, status
// written by the control plane proves it runs, and the root it publishes (ConfigMap weft-system/weft-ca-root)
// is judged like the cluster's CA (WEFT-C031 for one shorter than a leaf lifetime, with the lab's fix).
import { describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../../cli/commands/check.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';
import { capture } from '../cluster-fixture.js';

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'weft/http-echo' }] } });
const podStatus = (ready: 'True' | 'False') => ({ phase: 'Running', conditions: [{ type: 'Ready', status: ready, lastTransitionTime: '2026-01-01T00:00:00Z' }] });

export function describeCheckLab(kube: () => KubeServer): void {
  describe('weft check against a lab', () => {
    const labClient = (k: KubeServer): KubeClusterClient => new KubeClusterClient(k.kc, { target: { kind: 'lab', name: 'lab', dir: '/var/run/weft-lab/lab' } });

    it('an empty lab passes with skips', async () => {
      const c = capture();
      expect(await checkCommand(labClient(kube()), { pre: false, namespace: 'weft-system', output: 'table' }, c.printer)).toBe(0);
      expect(c.out[0]).toBe('weft check against lab lab (/var/run/weft-lab/lab)');
      expect(c.out[1]).toMatch(/^✔ lab: /);
    });

    it('a pod that is not Ready fails, naming it; a Programmed waypoint passes', async () => {
      const k = kube();
      const client = labClient(k);
      await k.put({ ...pod('a'), status: podStatus('True') });
      await k.put({ ...pod('b'), status: podStatus('False') });
      await k.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
      let results = Object.fromEntries((await runChecks(client, { pre: false, namespace: 'weft-system' })).map((r) => [r.check, r]));
      expect(results.pods).toMatchObject({ status: 'fail', message: '1/2 not ready: demo/b' });
      expect(results.waypoints).toMatchObject({ status: 'fail' });
      expect(results['control plane']).toMatchObject({ status: 'warn' });
      await k.setStatus('Pod', 'demo', 'b', podStatus('True'));
      await k.setStatus('Gateway', 'demo', 'waypoint', { conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
      results = Object.fromEntries((await runChecks(client, { pre: false, namespace: 'weft-system' })).map((r) => [r.check, r]));
      // No weft-ca-root published in this lab yet: the CA line is skipped.
      expect(Object.values(results).map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'skip']);
    });

    it('the lab\'s CA (weft-ca-root): valid passes; one that expires before a leaf lifetime (24 h) fails with its code', async () => {
      const k = kube();
      const { CertificateAuthority } = await import('../../../lib/identity/index.js');
      const caCheck = async () => (await runChecks(labClient(k), { pre: false, namespace: 'weft-system' })).find((r) => r.check === 'CA certificates');
      const publish = async (pem: string) => k.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-ca-root', namespace: 'weft-system' }, data: { 'root-cert.pem': pem } });
      await publish((await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })).certPem);
      expect(await caCheck()).toMatchObject({ status: 'ok' });
      await publish((await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 0.25 })).certPem);
      const r = await caCheck();
      expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C031', message: expect.stringContaining('less than one leaf lifetime (24 h)') as string });
      expect(r?.fix).toContain('sudo weft lab up --lab lab');
    });
  });
}
