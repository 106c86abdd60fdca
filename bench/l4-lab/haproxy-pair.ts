import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns } from '../../lab/netns.js';
import { haproxyPairConfigs } from '../lib/haproxy-config.js';
import { writeBenchPki } from '../lib/pki-files.js';
import { stopChild } from '../lib/stop-child.js';

/**
 * The baseline of bench/l4-lab: the benches' haproxy mTLS pair (bench/lib/haproxy-config.ts) placed like
 * the node agents, each in its node's network namespace (hostNetwork). The client pod connects to the
 * haproxy on its own node (plaintext); that one opens TLS 1.3 with a client certificate to the haproxy on
 * the server's node, which forwards plaintext to the server pod (echo 9000, sink 9001).
 */
export const HAPROXY_ECHO_PORT = 16001;
export const HAPROXY_SINK_PORT = 16002;
const TLS_ECHO_PORT = 16011;
const TLS_SINK_PORT = 16012;

export interface HaproxyPair {
  readonly pids: number[];
  stop(): Promise<void>;
}

export function writeHaproxyPki(dir: string): Promise<void> {
  return writeBenchPki(dir, { commonName: 'weft bench l4-lab root', namespace: 'hap' });
}

export function haproxyConfigs(dir: string, p: { clientNodeIp: string; serverNodeIp: string; serverPodIp: string }): { client: string; server: string } {
  return haproxyPairConfigs(dir, {
    clientEcho: `${p.clientNodeIp}:${HAPROXY_ECHO_PORT}`,
    clientSink: `${p.clientNodeIp}:${HAPROXY_SINK_PORT}`,
    tlsEcho: `${p.serverNodeIp}:${TLS_ECHO_PORT}`,
    tlsSink: `${p.serverNodeIp}:${TLS_SINK_PORT}`,
    backendEcho: `${p.serverPodIp}:9000`,
    backendSink: `${p.serverPodIp}:9001`,
  });
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
      await Promise.all(children.map((c) => stopChild(c)));
    },
  };
}
