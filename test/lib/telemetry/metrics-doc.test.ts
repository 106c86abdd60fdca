// Pins docs/metrics.md to the code: every `weft_*` metric the product registers is documented and every
// documented one exists (names from the sources of lib/, node-agent/, waypoint/, control/); and for the
// registries of a real node-agent data plane with a pod HBONE server and of a real waypoint, each
// metric's type and label names are exactly the ones its table row lists.
import 'reflect-metadata';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHboneServer } from '../../../lib/hbone/index.js';
import { LocalCertifier } from '../../../lib/identity/index.js';
import { StateStore } from '../../../lib/model/index.js';
import { silentLogger } from '../../../lib/telemetry/log.js';
import { createRegistry, type Registry } from '../../../lib/telemetry/metrics.js';
import { createDataplane } from '../../../node-agent/dataplane.js';
import { TcpConnector } from '../../../waypoint/transport/connector.js';
import { Waypoint } from '../../../waypoint/waypoint.js';
import { mintCa, mintWorkloadCert } from '../../support/pki.js';

const ROOT = join(import.meta.dirname, '../../..');

interface Row {
  readonly type: string;
  readonly labels: string[] | 'inherited';
}

/** The rows of the doc's tables: metric → type and labels (`the labels above` expands the last row that listed its own). */
function parseDoc(text: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  let previous: string[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1].startsWith('`weft_')) continue;
    const names = [...cells[1].matchAll(/`(weft_[a-z_]+)`/g)].map((m) => m[1]);
    const type = cells[2];
    let labels: string[] | 'inherited';
    if (type === '') labels = 'inherited';
    else if (cells[3] === '—') labels = [];
    else {
      const own = [...cells[3].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
      // `the labels above`: those of the last row that listed its own.
      if (cells[3].startsWith('the labels above')) labels = [...previous, ...own];
      else previous = labels = own;
    }
    for (const n of names) if (!rows.has(n) || labels !== 'inherited') rows.set(n, { type, labels });
  }
  return rows;
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('native')) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe('docs/metrics.md', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('lists exactly the metrics the product registers', async () => {
    const doc = parseDoc(await readFile(join(ROOT, 'docs/metrics.md'), 'utf8'));
    const inCode = new Set<string>();
    for (const dir of ['lib', 'node-agent', 'waypoint', 'control']) {
      for (const f of await sources(dir)) for (const m of (await readFile(f, 'utf8')).matchAll(/'(weft_[a-z_]+)'/g)) inCode.add(m[1]);
    }
    // The process-metrics prefix is not a metric.
    inCode.delete('weft_');
    expect([...inCode].filter((n) => !doc.has(n)).sort(), 'registered but not in docs/metrics.md').toEqual([]);
    expect([...doc.keys()].filter((n) => !inCode.has(n)).sort(), 'in docs/metrics.md but registered nowhere').toEqual([]);
  });

  it('gives each metric of a node agent and a waypoint its type and labels', async () => {
    const doc = parseDoc(await readFile(join(ROOT, 'docs/metrics.md'), 'utf8'));
    const ca = await mintCa();
    const agent = createRegistry({ defaultMetrics: false });
    const dp = createDataplane({ view: new StateStore(), certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: agent, log: silentLogger, accessLog: silentLogger });
    cleanups.push(() => dp.close());
    const server = createHboneServer({ certificate: await mintWorkloadCert(ca, 'shop', 'a'), trustRoots: ca.rootsPem, logger: silentLogger, authorize: () => ({ allow: true }), onTunnel: (stream) => stream.close(), registry: agent });
    cleanups.push(() => server.close({ graceMs: 0 }));
    const waypoint = createRegistry({ defaultMetrics: false });
    const view = new StateStore();
    const w = new Waypoint({ view, gateway: { namespace: 'demo', name: 'wp' }, connector: new TcpConnector(), registry: waypoint, log: silentLogger, accessLog: null, identity: undefined });
    cleanups.push(() => w.close());
    const check = async (registry: Registry): Promise<number> => {
      let n = 0;
      for (const m of registry.getMetricsAsArray() as unknown as { name: string; labelNames?: readonly string[]; get(): Promise<{ type: string }> }[]) {
        const row = doc.get(m.name);
        expect(row, `${m.name} in docs/metrics.md`).toBeDefined();
        expect(row!.type, `${m.name} type`).toBe((await m.get()).type);
        expect(row!.labels, `${m.name} labels`).toEqual([...(m.labelNames ?? [])]);
        n++;
      }
      return n;
    };
    expect(await check(agent)).toBeGreaterThanOrEqual(12);
    expect(await check(waypoint)).toBeGreaterThanOrEqual(8);
  });
});
