import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// For components that take a port rather than a listening socket (haproxy, etcd, kube-apiserver, the
// waypoint's and agent's flags): a port free on 127.0.0.1 now, picked BELOW the kernel's ephemeral
// range. A port from listen(0) lies inside that range, and between our close and the component's bind
// another process's outgoing connection may take it as its source port: the component then fails with
// EADDRINUSE (seen in fresh-clone CI runs, and haproxy stopped accepting in bench/hbone-loopback's
// new-connection phase). Below the range only another picker can collide, which random picks make rare.
const LOW = 20_000;

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  for (let i = 0; i < 50; i++) {
    const port = LOW + Math.floor(Math.random() * Math.max(1, high - LOW));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOW} and ${high} after 50 tries`);
}
