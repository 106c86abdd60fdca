// Pins the idle time of inbound HBONE sessions as process configuration: weft-waypoint started with
// WEFT_HBONE_SESSION_IDLE_MS=300 sends GOAWAY to, and closes, an HBONE session that opened no stream
// (it used to keep it forever), and both weft-waypoint and weft-node-agent refuse an unreadable value at
// start instead of running with a limit other than the one asked for. Runs the built processes (dist/).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CertificateAuthority, WorkloadCertificate } from '../../lib/identity/index.js';
import { eventually } from '../support/eventually.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';
import { freePort } from '../support/free-port.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WAYPOINT = join(ROOT, 'dist', 'waypoint', 'main.js');
const AGENT = join(ROOT, 'dist', 'node-agent', 'main.js');

describe('HBONE session idle time from the environment', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let client: WorkloadCertificate;
  let proc: ChildProcess;
  let hbonePort: number;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-tidle-'));
    ca = await mintCa();
    client = await mintWorkloadCert(ca, 'demo', 'client');
    writeFileSync(join(dir, 'config.yaml'), stringify({ ca: { certPem: ca.certPem, keyPem: ca.keyPem }, workloads: [], services: [], routes: [] }));
    hbonePort = await freePort();
    const [admin, metrics, health] = [await freePort(), await freePort(), await freePort()];
    proc = spawn(
      process.execPath,
      [
        WAYPOINT,
        '--gateway', 'demo/waypoint',
        '--local-config', join(dir, 'config.yaml'),
        '--hbone-address', `127.0.0.1:${hbonePort}`,
        '--admin-address', `127.0.0.1:${admin}`,
        '--metrics-address', `127.0.0.1:${metrics}`,
        '--health-address', `127.0.0.1:${health}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_HBONE_SESSION_IDLE_MS: '300' } },
    );
    proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    // Listening once a TCP connect succeeds.
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          if (proc.exitCode !== null) throw new Error(`weft-waypoint exited:\n${output}`);
          const s = tlsConnect({ host: '127.0.0.1', port: hbonePort, rejectUnauthorized: false }).on('error', () => resolve(false));
          s.once('secureConnect', () => (s.destroy(), resolve(true)));
        }),
      20_000,
      'weft-waypoint HBONE listener',
    );
  });
  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('weft-waypoint closes an HBONE session without streams after WEFT_HBONE_SESSION_IDLE_MS', async () => {
    const tls = tlsConnect({
      host: '127.0.0.1',
      port: hbonePort,
      cert: client.certChainPem.join('\n'),
      key: client.keyPem,
      ca: ca.rootsPem,
      ALPNProtocols: ['h2'],
      servername: '',
      checkServerIdentity: () => undefined,
    });
    const session = h2connect(`https://127.0.0.1:${hbonePort}`, { createConnection: () => tls });
    const goaways: number[] = [];
    let closed = false;
    session.on('goaway', (code: number) => goaways.push(code));
    session.on('close', () => (closed = true));
    session.on('error', () => undefined);
    // 300 ms idle, then 1 s to drain: well inside the default 5 min.
    await eventually(() => closed, 15_000, 'the idle session closed by the waypoint');
    expect(goaways).toEqual([0]);
  });

  it('weft-waypoint and weft-node-agent refuse an unreadable WEFT_HBONE_SESSION_IDLE_MS', () => {
    const env = { ...process.env, WEFT_HBONE_SESSION_IDLE_MS: 'five minutes' };
    const w = spawnSync(process.execPath, [WAYPOINT, '--gateway', 'demo/waypoint', '--local-config', join(dir, 'config.yaml')], { encoding: 'utf8', env, timeout: 30_000 });
    expect(w.status).toBe(1);
    expect(w.stderr).toContain('ERR_WEFT_CONFIG_INVALID');
    expect(w.stderr).toContain('WEFT_HBONE_SESSION_IDLE_MS');
    const a = spawnSync(process.execPath, [AGENT, '--node', 'n1', '--local-config', join(dir, 'config.yaml'), '--state-dir', join(dir, 'state')], { encoding: 'utf8', env, timeout: 30_000 });
    expect(a.status).toBe(1);
    expect(a.stderr).toContain('WEFT_HBONE_SESSION_IDLE_MS');
  });
});
