import type { Socket } from 'node:net';
import { WeftError } from '../../lib/errors/index.js';
import { selfTarget } from '../../lib/self-target.js';
import { HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT } from '../../lib/names.js';
import type { PodContext } from './inputs.js';

/** The agent's own listeners inside every captured pod. */
export const AGENT_POD_PORTS: ReadonlySet<number> = new Set([OUTBOUND_PORT, INBOUND_PLAIN_PORT, HBONE_PORT]);

/**
 * The refusal for a captured connection whose destination is the agent itself, or undefined. Loopback
 * is never redirected to a capture listener (the rules exempt `lo`), and a connection that came straight
 * to a capture port has that port on its own local address as original destination: proxying either
 * would connect to the same listener again, and again, until the agent runs out of file descriptors.
 */
export function selfCall(pod: PodContext, down: Socket, address: string, port: number): WeftError | undefined {
  const why = selfTarget(address, port, AGENT_POD_PORTS, down.localAddress, pod.ips);
  return why === undefined ? undefined : new WeftError('ERR_WEFT_AGENT_SELF_CALL', { destination: `${address}:${port}`, reason: why });
}
