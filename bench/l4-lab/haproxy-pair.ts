import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns } from '../../lab/netns.js';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { writeCertificate } from '../hbone-loopback/pki-files.js';

/**
 * The baseline of bench/l4-lab: a haproxy mTLS pair placed like the node agents, each in its node's
 * network namespace (hostNetwork). The client pod connects to the haproxy on its own node (plaintext);
 * that one opens TLS 1.3 with a client certificate to the haproxy on the server's node, which verifies
 * it against the CA and forwards plaintext to the server pod. Certificates are weft's own (ECDSA P-256,
 * URI SAN only, from lib/identity), as bench/hbone-loopback's haproxy uses them; haproxy checks the
 * chain but cannot check a SPIFFE ID. One thread each (`nbthread 1`): a node agent is one event loop.
 */
export const HAPROXY_ECHO_PORT = 16001;
export const HAPROXY_SINK_PORT = 16002;
const TLS_ECHO_PORT = 16011;
const TLS_SINK_PORT = 16012;

export interface HaproxyPair {
  readonly pids: number[];
  stop(): Promise<void>;
}

export async function writeHaproxyPki(dir: string): Promise<void> {
  const trustDomain = 'cluster.local';
  const ca = await CertificateAuthority.createRoot({ trustDomain, commonName: 'weft bench l4-lab root' });
  const certs = new CertificateManager({ certifier: new LocalCertifier(ca), logger: silentLogger });
  writeFileSync(join(dir, 'ca.pem'), ca.rootsPem.join('\n'));
  writeCertificate(dir, 'client', await certs.get(SpiffeId.of(trustDomain, 'hap', 'client')));
  writeCertificate(dir, 'server', await certs.get(SpiffeId.of(trustDomain, 'hap', 'server')));
  certs.close();
}

const HEAD = `global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
`;

export function haproxyConfigs(dir: string, p: { clientNodeIp: string; serverNodeIp: string; serverPodIp: string }): { client: string; server: string } {
  const tlsBind = `ssl crt ${dir}/server.pem ca-file ${dir}/ca.pem verify required ssl-min-ver TLSv1.3`;
  const tlsServer = `ssl crt ${dir}/client.pem ca-file ${dir}/ca.pem verify required ssl-min-ver TLSv1.3`;
  const client = `${HEAD}
frontend echo
  bind ${p.clientNodeIp}:${HAPROXY_ECHO_PORT}
  default_backend echo_tls
frontend sink
  bind ${p.clientNodeIp}:${HAPROXY_SINK_PORT}
  default_backend sink_tls
backend echo_tls
  server s ${p.serverNodeIp}:${TLS_ECHO_PORT} ${tlsServer}
backend sink_tls
  server s ${p.serverNodeIp}:${TLS_SINK_PORT} ${tlsServer}
`;
  const server = `${HEAD}
frontend echo_tls
  bind ${p.serverNodeIp}:${TLS_ECHO_PORT} ${tlsBind}
  default_backend echo
frontend sink_tls
  bind ${p.serverNodeIp}:${TLS_SINK_PORT} ${tlsBind}
  default_backend sink
backend echo
  server b ${p.serverPodIp}:9000
backend sink
  server b ${p.serverPodIp}:9001
`;
  return { client, server };
}

function startIn(netns: string, cfg: string, onExit: (msg: string) => void): ChildProcess {
  // `ip netns exec` execs haproxy in place: the child's pid is haproxy's.
  const [cmd, ...args] = inNetns(netns, ['haproxy', '-db', '-f', cfg]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') onExit(`haproxy (${cfg}) exited with ${code ?? signal}: ${err.trim()}`);
  });
  return child;
}

export async function startHaproxyPair(dir: string, o: { clientNetns: string; serverNetns: string; clientNodeIp: string; serverNodeIp: string; serverPodIp: string }, onExit: (msg: string) => void): Promise<HaproxyPair> {
  const cfg = haproxyConfigs(dir, o);
  writeFileSync(join(dir, 'haproxy-client.cfg'), cfg.client);
  writeFileSync(join(dir, 'haproxy-server.cfg'), cfg.server);
  const children = [startIn(o.serverNetns, join(dir, 'haproxy-server.cfg'), onExit), startIn(o.clientNetns, join(dir, 'haproxy-client.cfg'), onExit)];
  await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => {
    c.once('spawn', () => resolve());
    c.once('error', reject);
  })));
  return {
    pids: children.map((c) => c.pid!),
    async stop(): Promise<void> {
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise<void>((r) => c.once('exit', () => r()));
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(t);
        }),
      );
    },
  };
}
