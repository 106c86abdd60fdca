// Pins `weft check` on a real API server (its CRDs the pinned Gateway API release and the chart's): a
// healthy install passes with one ✔ line per check and exit 0, and each broken piece (Gateway API CRDs
// missing or too old, weft CRD missing, control plane not ready, GatewayClass not accepted, agent missing
// on a node, CNI not chained or contested, CA near expiry, trust root missing, API too old or
// unreachable) turns into its own ✖ line with a fix and exit 1. The one fault the real server cannot
// produce, an old Kubernetes version, is a client that reports one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../../cli/commands/check.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { ServerVersion } from '../../../lib/kube/cluster-client.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import { kubeConfigWithToken, type KubeServer } from '../../support/kube-server.js';
import { ROOT } from '../cli-bundle.js';
import { MESH_NS as NS, agentPod, caSecret, capture, controlDeployment, node, seedHealthyInstall } from '../cluster-fixture.js';

const GATEWAY_CRDS = ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes'].map((p) => `${p}.gateway.networking.k8s.io`);
const T = '2026-12-07T10:00:00Z';

export function describeCheckCommand(kube: () => KubeServer): void {
  describe('weft check on a real API server', () => {
    const setup = async (): Promise<{ k: KubeServer; client: KubeClusterClient }> => {
      const k = kube();
      await seedHealthyInstall(k);
      return { k, client: new KubeClusterClient(k.kc) };
    };
    async function statusOf(client: KubeClusterClient, check: string, now?: Date): Promise<{ status: string; message: string; fix?: string; code?: string }> {
      const results = await runChecks(client, { pre: false, namespace: NS, ...(now === undefined ? {} : { now }) });
      const r = results.find((x) => x.check === check);
      if (r === undefined) throw new Error(`no check ${check} in ${results.map((x) => x.check).join(', ')}`);
      return r;
    }

    it('passes a healthy install: every line ✔, exit 0; JSON carries every check and the verdict', async () => {
      const { client } = await setup();
      const c = capture();
      const code = await checkCommand(client, { pre: false, namespace: NS, output: 'table' }, c.printer);
      expect(c.out.filter((l) => l.startsWith('✖') || l.startsWith('!'))).toEqual([]);
      expect(c.out.filter((l) => l.startsWith('✔'))).toHaveLength(11);
      expect(c.out).toContain('✔ Gateway API CRDs: v1.7.0 (standard channel)');
      // The analyzers' lines: no finding; the certificates the data plane holds need its admin endpoints.
      expect(c.out.filter((l) => l.startsWith('- '))).toEqual([expect.stringMatching(/^- workload certificates: the admin endpoints/)]);
      expect(c.out.at(-1)).toBe('all checks passed');
      expect(code).toBe(0);
      const j = capture();
      await checkCommand(client, { pre: false, namespace: NS, output: 'json' }, j.printer);
      const doc = JSON.parse(j.out.join('\n')) as { passed: boolean; checks: { check: string; status: string }[] };
      expect(doc.passed).toBe(true);
      expect(doc.checks.map((x) => x.check)).toEqual([
        'Kubernetes API', 'Gateway API CRDs', 'weft CRDs', 'control plane', 'waypoint GatewayClass', 'node agents', 'CNI chained', 'CA certificates',
        'routes', 'authorization policies', 'node agents of captured pods', 'workload certificates',
      ]);
    });

    it('a missing Gateway API CRD fails with the kubectl apply to run, exit 1; the weft CRD missing fails with weft install', async () => {
      const { k, client } = await setup();
      await k.withoutCrds(['grpcroutes.gateway.networking.k8s.io', 'authorizationpolicies.security.weft.dev'], async () => {
        const c = capture();
        const code = await checkCommand(client, { pre: false, namespace: NS, output: 'table' }, c.printer);
        expect(code).toBe(1);
        const i = c.out.findIndex((l) => l.startsWith('✖ Gateway API CRDs'));
        // The control plane's error word for word: the code, the CRD and the command that installs it.
        expect(c.out[i]).toMatch(/ERR_WEFT_SOURCE_CRD_MISSING: .*CustomResourceDefinition grpcroutes\.gateway\.networking\.k8s\.io is not installed; install it with: kubectl apply --server-side -f .*gateway-api\/releases\/download\/v1\.7\.0/);
        expect(c.out[i + 1]).toMatch(/fix: Run the command in the message/);
        expect(await statusOf(client, 'weft CRDs')).toMatchObject({ status: 'fail', fix: expect.stringContaining('weft install') as string });
      });
    });

    it('Gateway API CRDs older than v1.2.0 fail; an HTTPRoute schema without spec.rules[].retry only warns (the API server drops retries)', async () => {
      const { k, client } = await setup();
      // A cluster that got old CRDs never had the policy that now refuses installing them (v1.7.0's safe-upgrades).
      const policyBinding = 'safe-upgrades.gateway.networking.k8s.io';
      const annotate = (name: string, version: string) =>
        k.rest.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`, {
          body: { metadata: { annotations: { 'gateway.networking.k8s.io/bundle-version': version } } },
          contentType: 'application/merge-patch+json',
        });
      await k.remove('ValidatingAdmissionPolicyBinding', undefined, policyBinding);
      try {
        // The admission plugin lets go of the binding a moment after it is deleted.
        await eventually(async () => (await annotate('httproutes.gateway.networking.k8s.io', 'v1.0.0')).status === 200, 15_000, 'the safe-upgrades policy lifted');
        expect(await statusOf(client, 'Gateway API CRDs')).toMatchObject({ status: 'fail', message: expect.stringContaining('v1.0.0') as string });
        expect((await Promise.all(GATEWAY_CRDS.map((n) => annotate(n, 'v1.6.2')))).map((r) => r.status)).toEqual([200, 200, 200, 200]);
        // A schema with the retry field (v1.7.0's has it): no warning.
        expect(await statusOf(client, 'Gateway API CRDs')).toMatchObject({ status: 'ok', message: 'v1.6.2 (standard channel)' });
        const routes = await k.get('CustomResourceDefinition', undefined, 'httproutes.gateway.networking.k8s.io');
        const v1 = ((routes?.spec as { versions: { name: string }[] }).versions).findIndex((v) => v.name === 'v1');
        await k.rest.expect('PATCH', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io', {
          body: [{ op: 'remove', path: `/spec/versions/${v1}/schema/openAPIV3Schema/properties/spec/properties/rules/items/properties/retry` }],
          contentType: 'application/json-patch+json',
        });
        expect(await statusOf(client, 'Gateway API CRDs')).toMatchObject({ status: 'warn', message: expect.stringContaining('no spec.rules[].retry') as string });
      } finally {
        await k.reinstall([...GATEWAY_CRDS, policyBinding]);
      }
    });

    it('a control plane with no ready replica fails; a partly ready one warns', async () => {
      const { k, client } = await setup();
      await k.put(controlDeployment({ replicas: 3, readyReplicas: 2 }));
      expect((await statusOf(client, 'control plane')).status).toBe('warn');
      await k.put(controlDeployment({ replicas: 3, readyReplicas: 0 }));
      expect(await statusOf(client, 'control plane')).toMatchObject({ status: 'fail', fix: expect.stringContaining('logs deploy/weft-control') as string });
    });

    it('the GatewayClass not accepted fails', async () => {
      const { k, client } = await setup();
      await k.setStatus('GatewayClass', undefined, 'weft-waypoint', { conditions: [{ type: 'Accepted', status: 'False', reason: 'InvalidParameters', message: 'no', lastTransitionTime: T }] });
      expect(await statusOf(client, 'waypoint GatewayClass')).toMatchObject({ status: 'fail', message: expect.stringContaining('not accepted') as string });
    });

    it('a node without a ready agent is named; a cordoned node is not required', async () => {
      const { k, client } = await setup();
      await k.put(node('node-c'));
      expect(await statusOf(client, 'node agents')).toMatchObject({ status: 'fail', message: expect.stringContaining('node-c') as string });
      expect(await statusOf(client, 'CNI chained')).toMatchObject({ status: 'fail', message: expect.stringContaining('node-c') as string });
      await k.put(node('node-c', { unschedulable: true }));
      expect((await statusOf(client, 'node agents')).status).toBe('ok');
    });

    it('install-cni not ready on a node fails "CNI chained" for that node only', async () => {
      const { k, client } = await setup();
      await k.put(agentPod('node-b', false));
      const r = await statusOf(client, 'CNI chained');
      expect(r.status).toBe('fail');
      expect(r.message).toContain('node-b');
      expect(r.message).not.toContain('node-a');
    });

    it('install-cni in a fight over the conflist is its own finding: "contested", its code, the node, the other writer and the setting to change', async () => {
      const { k, client } = await setup();
      await k.put(agentPod('node-b', false));
      const event = (name: string, at: string, output: string) =>
        k.put({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: NS },
          involvedObject: { kind: 'Pod', namespace: NS, name: 'weft-node-agent-node-b', fieldPath: 'spec.containers{install-cni}' },
          reason: 'Unhealthy',
          type: 'Warning',
          lastTimestamp: at,
          message: `Readiness probe failed: ${output}\n`,
        });
      // An older failure (weft-cni missing), then the contest the probe printed from the status file.
      await event('e1', '2026-12-07T10:00:00Z', '');
      await event('e2', '2026-12-07T10:05:00Z', JSON.stringify({ state: 'contested', file: '05-cilium.conflist', reverts: 5, code: 'ERR_WEFT_CNI_INSTALL_CONTESTED', writer: 'Cilium', setting: 'cni.exclusive=false (Cilium Helm value)', since: '2026-12-07T10:04:00Z' }));
      const r = await statusOf(client, 'CNI chained');
      expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C022' });
      expect(r.message).toMatch(/^contested: /);
      expect(r.message).toContain('node-b (05-cilium.conflist, 5 removals, other writer: Cilium)');
      expect(r.message).not.toContain('node-a');
      expect(r.fix).toContain('--set cni.exclusive=false');
      // Without the writer known, the finding still names the node and the settings to look at.
      await event('e3', '2026-12-07T10:06:00Z', JSON.stringify({ state: 'contested', file: '10-other.conflist', reverts: 3 }));
      const unknown = await statusOf(client, 'CNI chained');
      expect(unknown).toMatchObject({ code: 'WEFT-C022', message: expect.stringContaining('other writer: unknown') as string });
      expect(unknown.fix).toContain('cni.exclusive=false');
      // A probe failure that is not a contest stays the plain "not chained" line.
      await event('e4', '2026-12-07T10:07:00Z', JSON.stringify({ state: 'no-config', since: '2026-12-07T10:07:00Z' }));
      const plain = await statusOf(client, 'CNI chained');
      expect(plain).toMatchObject({ status: 'fail', message: expect.stringContaining('not chained on 1/2 node(s): node-b') as string });
      expect(plain.code).toBeUndefined();
    });

    it('a CA that expires within 30 days fails with the rotation fix; a valid one passes', async () => {
      const { k, client } = await setup();
      expect((await statusOf(client, 'CA certificates')).status).toBe('ok');
      const secret = await k.get('Secret', NS, 'weft-ca');
      const pem = Buffer.from(secret?.data?.['ca.crt'] ?? '', 'base64').toString();
      const { x509 } = await import('../../../lib/identity/crypto.js');
      const notAfter = new x509.X509Certificate(pem).notAfter;
      const r = await statusOf(client, 'CA certificates', new Date(notAfter.getTime() - 10 * 86_400_000));
      expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C030', message: expect.stringMatching(/expires in (9|10) days/) as string, fix: expect.stringContaining('Rotate') as string });
      // The fix names the rotation procedure, and that document exists.
      expect(r.fix).toContain('docs/rotation.md');
      expect(existsSync(join(ROOT, 'docs/rotation.md'))).toBe(true);
      expect((await statusOf(client, 'CA certificates', new Date(notAfter.getTime() + 1000))).message).toContain('expired');
      // --ca-expiry-threshold 5d: 10 days left passes.
      const lenient = await runChecks(client, { pre: false, namespace: NS, now: new Date(notAfter.getTime() - 10 * 86_400_000), caExpirySeconds: 5 * 86_400 });
      expect(lenient.find((x) => x.check === 'CA certificates')?.status).toBe('ok');
    });

    it('an issuing CA that expires before one leaf lifetime fails with its stable code; --leaf-lifetime on weft-control sets that lifetime', async () => {
      const { k, client } = await setup();
      const { CertificateAuthority } = await import('../../../lib/identity/index.js');
      const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 0.5 }); // 12 h left
      await k.put(caSecret(ca.certPem, ca.keyPem));
      const r = await statusOf(client, 'CA certificates');
      expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C031', message: expect.stringContaining('less than one leaf lifetime (24 h)') as string });
      expect(r.fix).toContain('Rotate the CA');
      expect(r.fix).toContain('docs/rotation.md');
      const c = capture();
      await checkCommand(client, { pre: false, namespace: NS, output: 'table' }, c.printer);
      expect(c.out.find((l) => l.startsWith('✖ CA certificates'))).toContain('[WEFT-C031]');
      // Leaves of 1 h fit in the 12 h left: no leaf-lifetime finding (the 30-day rule still fails, WEFT-C030).
      await k.put(controlDeployment({ args: ['--source=kube', '--leaf-lifetime=3600'] }));
      const short = await statusOf(client, 'CA certificates');
      expect(short.code).toBe('WEFT-C030');
      expect(short.message).toMatch(/expires in 0 days/);
    });

    it('the trust root ConfigMap missing fails the CA check', async () => {
      const { k, client } = await setup();
      await k.remove('ConfigMap', NS, 'weft-ca-root');
      expect(await statusOf(client, 'CA certificates')).toMatchObject({ status: 'fail', message: expect.stringContaining('weft-ca-root') as string });
    });

    it('a Kubernetes older than 1.29 fails the API check', async () => {
      const { k } = await setup();
      // The real server's version is what it is: this client reports an old one.
      class OldServer extends KubeClusterClient {
        override serverVersion(): Promise<ServerVersion> {
          return Promise.resolve({ major: 1, minor: 28, gitVersion: 'v1.28.9' });
        }
      }
      expect(await statusOf(new OldServer(k.kc), 'Kubernetes API')).toMatchObject({ status: 'fail', message: expect.stringContaining('v1.28.9') as string });
    });

    it('an unreachable API server fails once and skips the rest', async () => {
      const k = kube();
      const client = new KubeClusterClient(kubeConfigWithToken(`https://127.0.0.1:${await freePort()}`, k.caCert, 'unused'));
      const c = capture();
      const code = await checkCommand(client, { pre: false, namespace: NS, output: 'table' }, c.printer);
      expect(code).toBe(1);
      expect(c.out[1]).toMatch(/^✖ Kubernetes API: ERR_WEFT_CLI_API_UNREACHABLE: the Kubernetes API server at https:\/\/127\.0\.0\.1:\d+ is not reachable/);
      expect(c.out.filter((l) => l.startsWith('- '))).toHaveLength(11); // 7 checks and the 4 analyzers
    });
  });
}
