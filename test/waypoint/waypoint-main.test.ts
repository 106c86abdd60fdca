// Pins the weft-waypoint process (dist/waypoint/main.js, built by `npm test`) in --local-config mode with CA
// material: it issues its own certificate, serves HBONE on --hbone-address and forwards over HBONE to the
// endpoint, exposes /healthz/ready, /config_dump and /metrics, refuses bad flags with a coded error, and
// exits on SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, request } from 'undici';
import { stringify } from 'yaml';
import { createHboneServer, HbonePool, type HboneServer } from '../../lib/hbone/index.js';
import { SpiffeId, type CertificateAuthority, type WorkloadCertificate } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';
import { httpBackend, type Backend } from './harness.js';
import { freePort } from '../support/free-port.js';
import { eventually } from '../support/eventually.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'waypoint', 'main.js');

describe('weft-waypoint process', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let clientCert: WorkloadCertificate;
  let web: Backend;
  let endpoint: HboneServer;
  let proc: ChildProcess;
  const ports = { hbone: 0, admin: 0, metrics: 0, health: 0 };
  const peers: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-twp-'));
    ca = await mintCa();
    clientCert = await mintWorkloadCert(ca, 'demo', 'client');
    web = await httpBackend((req, res) => res.end(`ok ${req.url}`));
    endpoint = createHboneServer({
      certificate: await mintWorkloadCert(ca, 'demo', 'web'),
      trustRoots: ca.rootsPem,
      authorize: (peer) => (peers.push(String(peer)), { allow: true }),
      connectUpstream: (t) =>
        new Promise<Duplex>((resolve, reject) => {
          const s = netConnect(t.port, web.ip);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    });
    const ep = await endpoint.listen(0, web.ip);
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    writeFileSync(
      join(dir, 'config.yaml'),
      stringify({
        ca: { certPem: ca.certPem, keyPem: ca.keyPem },
        workloads: [{ uid: 'web-1', name: 'web-1', namespace: 'demo', serviceAccount: 'web', ips: [web.ip] }],
        services: [{ namespace: 'demo', name: 'web', vips: ['10.96.4.1'], ports: [{ name: 'http', port: 80, targetPort: web.port }], endpoints: [{ workloadUid: 'web-1', address: web.ip }] }],
        routes: [{ kind: 'HTTPRoute', namespace: 'demo', name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] }],
      }),
    );
    proc = spawn(
      process.execPath,
      [
        MAIN,
        '--gateway', 'demo/waypoint',
        '--local-config', join(dir, 'config.yaml'),
        '--hbone-address', `127.0.0.1:${ports.hbone}`,
        '--upstream-hbone-port', String(ep.port),
        '--admin-address', `127.0.0.1:${ports.admin}`,
        '--metrics-address', `127.0.0.1:${ports.metrics}`,
        '--health-address', `127.0.0.1:${ports.health}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
    await eventually(async () => {
      if (proc.exitCode !== null) throw new Error(`weft-waypoint exited (${proc.exitCode}) before it was ready`);
      const status = await request(`http://127.0.0.1:${ports.health}/healthz/ready`).then(
        (r) => r.body.text().then(() => r.statusCode),
        () => 0,
      );
      return status === 200;
    }, 20_000, 'weft-waypoint ready', 200);
  });
  afterAll(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
    }
    await endpoint.close({ graceMs: 0 });
    await web.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HBONE with its own identity and forwards over HBONE', async () => {
    const hpool = new HbonePool({ logger: silentLogger });
    const pool = new Pool('http://web.demo', {
      connect: (_o, cb) => {
        hpool
          .connect({ source: clientCert.identity, destination: SpiffeId.parse('spiffe://cluster.local/ns/demo/sa/waypoint'), nextHop: { host: '127.0.0.1', port: ports.hbone }, authority: '10.96.4.1:80', certificate: clientCert, trustRoots: ca.rootsPem })
          .then(
            (s) => cb(null, Object.assign(s, { ref: () => s, unref: () => s }) as never),
            (e: Error) => cb(e, null),
          );
      },
    });
    const r = await pool.request({ method: 'GET', path: '/via-hbone' });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('ok /via-hbone');
    await pool.close();
    hpool.close({ force: true });
    expect(peers).toContain('spiffe://cluster.local/ns/demo/sa/waypoint');
  });

  it('exposes /config_dump and /metrics', async () => {
    const dump = (await (await request(`http://127.0.0.1:${ports.admin}/config_dump`)).body.json()) as { identity: string; routes: unknown[] };
    expect(dump.identity).toBe('spiffe://cluster.local/ns/demo/sa/waypoint');
    expect(dump.routes).toHaveLength(1);
    const metrics = await (await request(`http://127.0.0.1:${ports.metrics}/metrics`)).body.text();
    expect(metrics).toMatch(/weft_requests_total\{[^}]*response_code="200"/);
  });

  it('exits on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses bad flags with a coded error', () => {
    const r = spawnSync(process.execPath, [MAIN, '--gateway', 'nogateway', '--local-config', '/nonexistent'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ERR_WEFT_CONFIG_INVALID');
  });
});
