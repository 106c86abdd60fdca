// Pins `weft waypoint` on a real API server (the pinned Gateway API CRDs validate what it writes): apply
// creates the Gateway of the contract (class weft-waypoint, listener mesh 15008/HBONE) by server-side apply
// and with --enroll-namespace labels the namespace only once the waypoint is ready (Programmed for the
// Gateway's current generation); list/status read what the control plane reports (played here by writing
// the Gateway's /status as weft-control would); --wait returns only then and times out with
// ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing, enrolling nothing; delete removes the Gateway
// and the enrollment (in the foreground: the Gateway stays marked until a garbage collector, which does
// not run here, removes its dependents); a namespace typo is ERR_WEFT_CLI_NOT_FOUND and writes nothing;
// without the Gateway CRD the error says to install it. A lab is such an API server too (its own).
import { afterEach, describe, expect, it } from 'vitest';
import { applyWaypoint, deleteWaypoint, enrollNamespace, listWaypoints, waypointApplyCommand, waypointStatusCommand } from '../../../cli/commands/waypoint.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { KubeServer } from '../../support/kube-server.js';
import { capture } from '../cluster-fixture.js';

const CONTRACT_SPEC = { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] };
const T = '2026-01-01T00:00:00Z';
const condition = (type: string, status: string, reason: string, message = '', observedGeneration = 1) => ({ type, status, reason, message, observedGeneration, lastTransitionTime: T });
const programmed = { conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'True', 'Programmed')], addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] };
const notReady = (message: string) => ({ conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'False', 'Pending', message)], addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] });
const applyArgs = { namespace: 'demo', name: 'waypoint', for: 'service' as const, enrollNamespace: true, wait: false, timeout: 5, output: 'table' as const, intervalMs: 50 };
type Status = typeof programmed;

export function describeWaypointCommand(kube: () => KubeServer): void {
  describe('weft waypoint on a real API server', () => {
    const stops: (() => void)[] = [];
    afterEach(() => {
      for (const stop of stops.splice(0)) stop();
    });
    const setup = async (): Promise<{ k: KubeServer; client: KubeClusterClient }> => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      return { k, client: new KubeClusterClient(k.kc) };
    };
    /** Plays the control plane: once the Gateway exists its status steps through `statuses`, one per `everyMs`. */
    const controlPlane = (k: KubeServer, statuses: Status[], everyMs = 150): void => {
      let i = 0;
      let busy = false;
      const timer = setInterval(() => {
        if (busy || i >= statuses.length) return;
        busy = true;
        void k
          .get('Gateway', 'demo', 'waypoint')
          .then(async (gw) => (gw === undefined ? undefined : k.setStatus('Gateway', 'demo', 'waypoint', statuses[i++])))
          .finally(() => (busy = false));
      }, everyMs);
      stops.push(() => clearInterval(timer));
    };
    const waypointLabel = async (k: KubeServer) => (await k.get('Namespace', undefined, 'demo'))?.metadata.labels?.['weft.dev/use-waypoint'];

    it('apply --enroll-namespace creates the contract Gateway by server-side apply and labels the namespace once it is ready', async () => {
      const { k, client } = await setup();
      controlPlane(k, [notReady('Waiting for a waypoint replica to be ready: 0 of 2 ready'), programmed]);
      const c = capture();
      expect(await waypointApplyCommand(client, applyArgs, c.printer)).toBe(0);
      const gw = await k.get('Gateway', 'demo', 'waypoint');
      expect(gw?.spec).toMatchObject(CONTRACT_SPEC);
      expect(gw?.metadata.labels).toEqual({ 'weft.dev/waypoint-for': 'service' });
      expect(k.requests().some((r) => r.verb === 'patch' && r.path === '/apis/gateway.networking.k8s.io/v1/namespaces/demo/gateways/waypoint' && r.query.fieldManager === 'weft')).toBe(true);
      expect(await waypointLabel(k)).toBe('waypoint');
      expect(c.out.join('\n')).toContain('weft.dev/use-waypoint=waypoint');
    });

    it('list and status show what the control plane reported; status exits 1 until Programmed', async () => {
      const { k, client } = await setup();
      await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service' });
      await enrollNamespace(client, 'demo', 'waypoint');
      await k.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'demo', labels: { 'weft.dev/use-waypoint': 'waypoint' } }, spec: { ports: [{ port: 9080 }] } });
      const c1 = capture();
      expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c1.printer)).toBe(1);
      // The Gateway CRD defaults a new Gateway's status: Unknown until a controller writes it.
      expect(c1.out.join('\n')).toContain('condition Programmed=Unknown Pending: Waiting for controller');
      const gw = await k.setStatus('Gateway', 'demo', 'waypoint', programmed);
      const labels = { app: 'waypoint' };
      await k.put({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'waypoint', namespace: 'demo', ownerReferences: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: gw.metadata.uid }] },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'waypoint', image: 'x' }] } } },
        status: { replicas: 1, readyReplicas: 1 },
      });
      const c2 = capture();
      expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c2.printer)).toBe(0);
      expect(c2.out.join('\n')).toContain('deployment: waypoint 1/1 ready');
      expect(await listWaypoints(client, undefined)).toEqual([
        { namespace: 'demo', name: 'waypoint', for: 'service', programmed: 'True', reason: 'Programmed', addresses: ['10.96.0.20'], enrolled: ['namespace/demo', 'service/reviews'] },
      ]);
    });

    it('--wait returns only once the control plane programs the Gateway, and enrolls only then', async () => {
      const { k, client } = await setup();
      controlPlane(k, [notReady('Waiting for a waypoint replica to be ready: 0 of 2 ready'), notReady('Waiting for the node agents: a discovery push to the node agents is pending'), programmed]);
      const seen: string[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const gw = await k.get('Gateway', 'demo', 'waypoint');
          const p = (gw?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find((x) => x.type === 'Programmed');
          seen.push(`${p?.status ?? 'none'}/${(await waypointLabel(k)) ?? '-'}`);
        }
      })();
      try {
        expect(await waypointApplyCommand(client, { ...applyArgs, wait: true, timeout: 20 }, capture().printer)).toBe(0);
      } finally {
        watching = false;
        await watcher;
      }
      // The namespace was never enrolled while the waypoint was not ready.
      expect(seen.filter((s) => s.startsWith('False/') || s.startsWith('none/')).every((s) => s.endsWith('/-'))).toBe(true);
      expect(seen).toContain('False/-');
      expect(await waypointLabel(k)).toBe('waypoint');
    });

    it('a Programmed condition of an older generation is not ready', async () => {
      const { k, client } = await setup();
      controlPlane(k, [{ ...programmed, conditions: programmed.conditions.map((x) => ({ ...x, observedGeneration: 0 })) }]);
      const err = await waypointApplyCommand(client, { ...applyArgs, timeout: 1 }, capture().printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
      expect((err as Error).message).toContain('not yet for 1');
    });

    it('--enroll-namespace gives up with ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing, and enrolls nothing', async () => {
      const { k, client } = await setup();
      controlPlane(k, [notReady('Waiting for the node agents: the node agent of node n2 is not watching discovery (is it running?)')]);
      const err = await waypointApplyCommand(client, { ...applyArgs, timeout: 1 }, capture().printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
      expect((err as Error).message).toContain('node agent of node n2 is not watching discovery');
      expect((err as Error).message).toContain('namespace demo was not enrolled');
      expect(await waypointLabel(k)).toBeUndefined();
    });

    it('--wait gives up naming the state when the control plane never answers', async () => {
      const { client } = await setup();
      const err = await waypointApplyCommand(client, { ...applyArgs, enrollNamespace: false, wait: true, timeout: 1 }, capture().printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
      expect((err as Error).message).toContain('Programmed=Unknown');
      expect((err as Error).message).toContain('nothing was enrolled');
    });

    it('delete removes the Gateway and the namespace enrollment that named it', async () => {
      const { k, client } = await setup();
      await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service' });
      await enrollNamespace(client, 'demo', 'waypoint');
      expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
      // Deleted in the foreground: the garbage collector removes it once its dependents are gone (none
      // runs here, so it stays marked).
      const gw = await k.get('Gateway', 'demo', 'waypoint');
      expect(gw?.metadata.deletionTimestamp).toBeDefined();
      expect(gw?.metadata.finalizers).toEqual(['foregroundDeletion']);
      expect(await waypointLabel(k)).toBeUndefined();
      await k.remove('Gateway', 'demo', 'waypoint'); // what the garbage collector would do (the finalizer aside)
      await k.rest.expect('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/demo/gateways/waypoint', { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
      expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: false, unenrolled: false });
    });

    it('apply -n <typo> is ERR_WEFT_CLI_NOT_FOUND naming the namespace, and writes no Gateway', async () => {
      const { k, client } = await setup();
      const err = await applyWaypoint(client, { namespace: 'demoo', name: 'waypoint', for: 'service' }).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_NOT_FOUND'), String(err)).toBe(true);
      expect((err as Error).message).toContain('demoo');
      expect(await k.list('Gateway')).toEqual([]);
    });

    it('without the Gateway CRD the error says to install the Gateway API CRDs', async () => {
      const { k, client } = await setup();
      await k.withoutCrds(['gateways.gateway.networking.k8s.io'], async () => {
        const err = await listWaypoints(client, undefined).catch((e: unknown) => e);
        expect(hasCode(err, 'ERR_WEFT_CLI_API_NOT_INSTALLED'), String(err)).toBe(true);
        expect((err as { hint: string }).hint).toContain('Gateway API CRDs');
      });
    });
  });
}
