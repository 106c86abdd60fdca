// Pins how a node agent reaches a waypoint with several replicas (issue 13 item 5): it tunnels to a ready
// replica's pod IP (P2C), never to one discovery lists as not ready, and to the waypoint's address only
// when no replica is known; a connect that reaches no replica (refused) fails over to another replica for
// the same connection and makes the balancer shun the dead one, while an answer (a refusal) is final; and
// pooled sessions to a replica that leaves discovery's ready set are closed.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Duplex } from 'node:stream';
import { HbonePool } from '../../lib/hbone/index.js';
import { isWeftError } from '../../lib/errors/index.js';
import { ServiceSchema, StateStore, type WaypointRef } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { PeakEwmaBalancer } from '../../node-agent/proxy/p2c.js';
import { connectFailover, hopKey, waypointHops, WaypointReplicaEviction } from '../../node-agent/proxy/waypoint-hops.js';
import { eventually } from '../support/eventually.js';
import { mintPki, readAll, request as hboneRequest, startEcho, startHbone, type Pki } from '../lib/hbone/hbone-fixture.js';

const WAYPOINT: WaypointRef = { namespace: 'shop', name: 'wp', address: '10.96.0.9', identity: 'spiffe://cluster.local/ns/shop/sa/wp' };

/** The waypoint's own Service as discovery sends it: one port 15008/hbone, its replicas as endpoints. */
function waypointService(endpoints: { address: string; ready: boolean }[]) {
  return ServiceSchema.parse({
    namespace: 'shop',
    name: 'wp',
    vips: ['10.96.0.9'],
    ports: [{ name: 'mesh', port: 15008, targetPort: 15008, appProtocol: 'hbone' }],
    endpoints: endpoints.map((e, i) => ({ workloadUid: `wp-${i}`, ...e })),
  });
}

function storeWith(endpoints: { address: string; ready: boolean }[]): StateStore {
  const store = new StateStore();
  store.apply([{ kind: 'Service', version: '1', upserts: [waypointService(endpoints)], removes: [], replace: true, snapshotDone: true }]);
  return store;
}

describe('node agent: waypoint replicas', () => {
  it('picks among the ready replicas only, and the waypoint address when none is known', () => {
    const store = storeWith([
      { address: '10.244.1.5', ready: true },
      { address: '10.244.2.6', ready: true },
      { address: '10.244.3.7', ready: false },
    ]);
    const balancer = new PeakEwmaBalancer();
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const hops = waypointHops(store, balancer, WAYPOINT);
      expect([...hops].sort()).toEqual(['10.244.1.5', '10.244.2.6']);
      firsts.add(hops[0]);
    }
    expect(firsts).toEqual(new Set(['10.244.1.5', '10.244.2.6'])); // both get new connections
    // A replica whose connect failed is shunned by P2C until its estimate decays.
    balancer.start(hopKey('10.244.1.5'))(false);
    for (let i = 0; i < 50; i++) expect(waypointHops(store, balancer, WAYPOINT)[0]).toBe('10.244.2.6');

    expect(waypointHops(storeWith([{ address: '10.244.3.7', ready: false }]), balancer, WAYPOINT)).toEqual(['10.96.0.9']);
    expect(waypointHops(new StateStore(), balancer, WAYPOINT)).toEqual(['10.96.0.9']);
  });

  describe('over real HBONE', () => {
    let pki: Pki;
    let echo: Awaited<ReturnType<typeof startEcho>>;
    let server: Awaited<ReturnType<typeof startHbone>>;
    let port = 0;
    let refuse = false;
    let asked = 0;

    beforeAll(async () => {
      pki = await mintPki();
      echo = await startEcho();
      // The live replica listens on 127.0.0.1 only: the same port on 127.0.0.2 is a dead replica (refused).
      server = await startHbone(pki, {
        authorize: () => {
          asked++;
          return refuse ? { allow: false, status: 403, reason: 'DENY: test' } : { allow: true };
        },
      });
      port = server.port;
    });
    afterAll(async () => {
      await server?.hbone.close({ graceMs: 0 });
      echo?.server.close();
    });

    const request = () => {
      const { nextHop: _unused, ...rest } = hboneRequest(pki, port, echo.port);
      return rest;
    };
    const roundTrip = async (stream: Duplex): Promise<string> => {
      stream.end('hi');
      return (await readAll(stream)).toString();
    };

    it('a connect refused by a dead replica fails over to the live one for the same connection', async () => {
      const pool = new HbonePool({ logger: silentLogger });
      const balancer = new PeakEwmaBalancer();
      const failed: [string, string][] = [];
      try {
        const stream = await connectFailover(pool, request(), ['127.0.0.2', '127.0.0.1'], {
          balancer,
          port,
          onFailover: (hop, err) => failed.push([hop, isWeftError(err) ? err.code : String(err)]),
        });
        expect(await roundTrip(stream)).toBe('hi');
        expect(failed).toEqual([['127.0.0.2', 'ERR_WEFT_HBONE_CONNECT_FAILED']]);
        // The dead replica carries a failure's weight now: P2C sends the next connections elsewhere.
        expect(balancer.load(hopKey('127.0.0.2'))).toBeGreaterThan(balancer.load(hopKey('127.0.0.1')) * 10);
        // With no other hop left, the last one's error is the connection's.
        const err = await connectFailover(pool, request(), ['127.0.0.2'], { balancer, port }).catch((e: unknown) => e);
        expect(isWeftError(err) && err.code).toBe('ERR_WEFT_HBONE_CONNECT_FAILED');
      } finally {
        pool.close({ force: true });
      }
    });

    it('an answer from a replica (a refusal) is final: no other replica is asked', async () => {
      const pool = new HbonePool({ logger: silentLogger });
      const failed: string[] = [];
      refuse = true;
      asked = 0;
      try {
        const err = await connectFailover(pool, request(), ['127.0.0.1', '127.0.0.3'], { balancer: new PeakEwmaBalancer(), port, onFailover: (hop) => failed.push(hop) }).catch((e: unknown) => e);
        expect(isWeftError(err) && err.code).toBe('ERR_WEFT_HBONE_DENIED');
        expect(asked).toBe(1);
        expect(failed).toEqual([]);
      } finally {
        refuse = false;
        pool.close({ force: true });
      }
    });

    it('sessions to a replica that leaves the ready set are closed; others stay', async () => {
      const pool = new HbonePool({ logger: silentLogger });
      const store = storeWith([
        { address: '127.0.0.1', ready: true },
        { address: '10.244.2.6', ready: true },
      ]);
      const eviction = new WaypointReplicaEviction(store, (host) => pool.closeTo(host), silentLogger);
      store.on('change', () => eviction.update());
      try {
        const stream = await connectFailover(pool, request(), ['127.0.0.1'], { balancer: new PeakEwmaBalancer(), port });
        expect(await roundTrip(stream)).toBe('hi');
        expect(pool.stats().sessions).toBe(1);
        // Another replica turning unready touches nothing of ours.
        store.apply([{ kind: 'Service', version: '2', upserts: [waypointService([{ address: '127.0.0.1', ready: true }, { address: '10.244.2.6', ready: false }])], removes: [] }]);
        expect(pool.stats().sessions).toBe(1);
        store.apply([{ kind: 'Service', version: '3', upserts: [waypointService([{ address: '10.244.2.6', ready: true }])], removes: [] }]);
        await eventually(() => pool.stats().sessions === 0, 10_000, 'session to the evicted replica closed');
      } finally {
        pool.close({ force: true });
      }
    });
  });
});
