// Pins: for a Gateway of class weft-waypoint the controller applies a ServiceAccount, a Deployment running
// the chart's default image (no parametersRef: defaults, with resources and a non-root securityContext)
// with the args of waypoint/main.ts, two replicas spread over nodes (preferred), a Service
// exposing 15008 and a PodDisruptionBudget (maxUnavailable 1) — all owned by the Gateway, with field manager
// weft-waypoint-controller — writes Gateway/GatewayClass status, where Programmed waits for a Ready replica
// that discovery has delivered to the node agents of the namespace's nodes (issue 13 items 4, 5), cleans up
// when the Gateway is deleted, does nothing while not the leader, and behaves the same on Kubernetes and in
// a directory. Here in a directory; on a real API server: on-kube/waypoints.ts, run by kube-api-server.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DirectorySource } from '../../control/sources/files.js';
import { WaypointController } from '../../control/waypoints/controller.js';
import { AlwaysLeader } from '../../control/leader.js';
import { asKind } from '../../control/sources/schemas.js';
import { manifestDirectory, type ManifestDirectory } from '../support/manifest-directory.js';
import { eventually } from '../support/eventually.js';
import { GATEWAY, GATEWAY_CLASS, expectGenerated } from './waypoint-fixtures.js';

describe('waypoint controller', () => {
  describe('in a directory', () => {
    let dir: string;
    let source: DirectorySource;
    let cluster: ManifestDirectory;
    let controller: WaypointController;
    beforeEach(async () => {
      cluster = await manifestDirectory('weft-t-waypoints-', { 'Gateway.shop.wp.yaml': [GATEWAY], 'GatewayClass.weft-waypoint.yaml': [GATEWAY_CLASS] });
      ({ dir, source } = cluster);
    });
    afterEach(async () => {
      await controller.stop();
      await cluster.remove();
    });

    it('writes the waypoint objects into generated/ and removes them with the Gateway', async () => {
      const leader = new AlwaysLeader();
      controller = new WaypointController({ source, leader, controlAddress: '172.30.0.254:15012', debounceMs: 10 });
      controller.start();
      leader.start();
      await expectGenerated(source);
      expect((await readdir(path.join(dir, 'generated'))).sort()).toEqual(['Deployment.shop.wp.yaml', 'PodDisruptionBudget.shop.wp.yaml', 'Service.shop.wp.yaml', 'ServiceAccount.shop.wp.yaml']);
      // Pending until the generated objects are observed, then AddressNotAssigned: nobody allocated a cluster IP.
      const programmed = () => asKind(source.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.status?.conditions?.find((c) => c.type === 'Programmed');
      await eventually(() => programmed()?.reason === 'AddressNotAssigned', 15_000, 'gateway status');
      expect(programmed()?.status).toBe('False');
      expect((await readdir(path.join(dir, 'status'))).sort()).toEqual(['Gateway.shop.wp.yaml', 'GatewayClass.weft-waypoint.yaml']);

      await rm(path.join(dir, 'manifests', 'Gateway.shop.wp.yaml'));
      await eventually(async () => (await readdir(path.join(dir, 'generated'))).length === 0, 15_000, 'generated/ emptied');
    });
  });
});
