// Pins: the status controller writes route and policy status through the source into a directory
// (status/ files that merge back into the objects). On Kubernetes (the /status subresource, only as
// leader, quiet when nothing changed): on-kube/status.ts, run by kube-api-server.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { DirectorySource } from '../../control/sources/files.js';
import { StatusController } from '../../control/status/controller.js';
import { AlwaysLeader } from '../../control/leader.js';
import { eventually } from '../support/eventually.js';
import { asKind } from '../../control/sources/schemas.js';
import { manifestDirectory, type ManifestDirectory } from '../support/manifest-directory.js';
import { GW, NS, POLICY, ROUTE, SVC } from './status-fixtures.js';


describe('status controller', () => {
  describe('in a directory', () => {
    let dir: string;
    let source: DirectorySource;
    let cluster: ManifestDirectory;
    let controller: StatusController;
    beforeEach(async () => {
      cluster = await manifestDirectory('weft-t-status-', { 'all.yaml': [NS, GW, SVC, ROUTE, POLICY] });
      ({ dir, source } = cluster);
    });
    afterEach(async () => {
      await controller.stop();
      await cluster.remove();
    });

    it('writes status files that merge back into the objects', async () => {
      const leader = new AlwaysLeader();
      controller = new StatusController({ source, leader, debounceMs: 10 });
      controller.start();
      leader.start();
      const file = path.join(dir, 'status', 'HTTPRoute.shop.r.yaml');
      const doc = await eventually(async () => (parse(await readFile(file, 'utf8').catch(() => '')) as { status?: { parents?: { conditions?: { type: string; reason: string }[] }[] } } | null) ?? undefined, 15_000, 'status file');
      expect(doc?.status?.parents?.[0]?.conditions?.map((c) => `${c.type}=${c.reason}`)).toEqual(['Accepted=Accepted', 'ResolvedRefs=ResolvedRefs']);
      await eventually(() => asKind(source.get({ kind: 'HTTPRoute', namespace: 'shop', name: 'r' }), 'HTTPRoute')?.status?.parents?.length === 1, 15_000, 'merged');
      await eventually(async () => (await readFile(path.join(dir, 'status', 'AuthorizationPolicy.shop.p.yaml'), 'utf8').catch(() => '')).includes('reason: Accepted'), 15_000, 'policy status file');
    });
  });
});
