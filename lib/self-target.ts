import { BlockList, SocketAddress, isIP } from 'node:net';

// A proxy that connects on behalf of its clients must never be made to connect to itself: each hop
// accepts a connection and opens the next one to its own listener, until the process runs out of file
// descriptors. Used by the node agent's capture listeners and by every HBONE server (lib/hbone).

// Loopback and "this host" addresses, IPv4-mapped forms included (BlockList matches those against the
// IPv4 rules): connecting to any of them from a pod's or the proxy's namespace reaches that namespace.
const LOCAL_ONLY = new BlockList();
LOCAL_ONLY.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL_ONLY.addSubnet('0.0.0.0', 8, 'ipv4');
LOCAL_ONLY.addAddress('::1', 'ipv6');
LOCAL_ONLY.addAddress('::', 'ipv6');

/** True for loopback (127.0.0.0/8, ::1) and unspecified (0.0.0.0/8, ::) addresses, mapped forms too. */
export function isLoopbackOrUnspecified(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && LOCAL_ONLY.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why `address:port` is the calling proxy itself, or undefined when it is not: any loopback or
 * unspecified address, or one of `ports` (the proxy's own listeners) on `local` (the address the connection
 * came in on) or on one of `others` (where else those listeners are reachable: a pod's IPs). Called once per
 * connection or tunnel, never per chunk; `others` is read only when the port is one of the proxy's, so the
 * common case allocates nothing.
 */
export function selfTarget(
  address: string,
  port: number,
  ports: ReadonlySet<number>,
  local: string | undefined,
  others: readonly string[] | (() => readonly string[]),
): string | undefined {
  if (isLoopbackOrUnspecified(address)) return `${address} is a loopback or unspecified address`;
  if (!ports.has(port)) return undefined;
  const ip = canonical(address);
  const mine = (a: string | undefined): boolean => a !== undefined && canonical(a) === ip;
  if (mine(local) || (typeof others === 'function' ? others() : others).some(mine)) return `port ${port} of ${address} is the proxy's own listener`;
  return undefined;
}

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower-case. */
function canonical(ip: string): string {
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  if (isIP(ip) !== 6) return ip;
  const a = new SocketAddress({ address: ip, family: 'ipv6' }).address;
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}
