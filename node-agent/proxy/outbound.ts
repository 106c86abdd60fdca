import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WeftError } from '../../lib/errors/index.js';
import { HBONE_PORT } from '../../lib/hbone/index.js';
import { SpiffeId } from '../../lib/identity/index.js';
import type { Service, Workload } from '../../lib/model/index.js';
import { workloadLabelOf } from '../../lib/model/index.js';
import { UNKNOWN, serviceLabelsOf } from '../../lib/telemetry/istio-labels.js';
import { nativeNetns } from '../netns/native.js';
import type { ConnectionInfo, Refusal, TrackedConnection } from './connections.js';
import { identityOf, type PodContext, type ProxyInputs } from './inputs.js';
import { connectFailed, workloadUnknown } from './refusals.js';
import { selfCall } from './self-call.js';
import { connectFailover, waypointHops } from './waypoint-hops.js';
import { pipeTunnel, resetByFarEnd } from '../../lib/hbone/index.js';

/** Where an outbound connection goes, decided from cluster state. */
export type OutboundRoute =
  | {
      kind: 'hbone';
      nextHop: string;
      /** Through a waypoint: its other ready replicas, tried in order when `nextHop` cannot be reached. */
      fallbackHops?: readonly string[];
      authority: string;
      identity: string;
      dst?: Workload;
      service?: Service;
      balanceKey?: string;
    }
  | { kind: 'passthrough'; address: string; port: number; dst?: Workload; service?: Service; balanceKey?: string }
  | { kind: 'refuse'; error: WeftError; service?: Service };

/**
 * Decides the route for a captured pod's outbound connection to `address:port`: a Service VIP is
 * resolved to its waypoint or to one endpoint (P2C over peak-EWMA); a captured destination gets HBONE
 * to `<pod ip>:15008` (or its workload waypoint); anything else passes through with the mark. A waypoint
 * is reached at one of its ready replicas, the others kept for fail-over (waypoint-hops.ts).
 */
export function routeOutbound(inputs: ProxyInputs, address: string, port: number): OutboundRoute {
  const { view, balancer, tls } = inputs;
  let target = { address, port };
  let dst: Workload | undefined;
  let balanceKey: string | undefined;
  const service = view.serviceByVip(address);
  if (service) {
    const sp = service.ports.find((p) => p.port === port);
    if (service.waypoint) {
      const w = service.waypoint;
      const [nextHop, ...fallbackHops] = waypointHops(view, balancer, w);
      return { kind: 'hbone', nextHop, fallbackHops, authority: `${address}:${port}`, identity: w.identity, service };
    }
    if (!sp) return { kind: 'passthrough', address, port, service };
    const ready = service.endpoints.filter((e) => e.ready);
    if (ready.length === 0) return { kind: 'refuse', error: new WeftError('ERR_WEFT_AGENT_NO_ENDPOINT', { service: `${service.namespace}/${service.name}`, port }), service };
    const ep = balancer.pick(ready, (e) => `${e.address}:${sp.targetPort}`)!;
    target = { address: ep.address, port: sp.targetPort };
    balanceKey = `${ep.address}:${sp.targetPort}`;
    dst = view.workloadByUid(ep.workloadUid) ?? view.workloadByIp(ep.address);
  } else {
    dst = view.workloadByIp(address);
  }
  if (dst?.waypoint) {
    const [nextHop, ...fallbackHops] = waypointHops(view, balancer, dst.waypoint);
    return { kind: 'hbone', nextHop, fallbackHops, authority: `${target.address}:${target.port}`, identity: dst.waypoint.identity, dst, service, balanceKey };
  }
  if (dst?.captured) {
    return { kind: 'hbone', nextHop: target.address, authority: `${target.address}:${target.port}`, identity: identityOf(tls.trustDomain, dst), dst, service, balanceKey };
  }
  return { kind: 'passthrough', address: target.address, port: target.port, dst, service, balanceKey };
}

/** Handles one connection accepted on the pod's 15001 listener. */
export function handleOutbound(inputs: ProxyInputs, pod: PodContext, down: Socket): void {
  down.setNoDelay(true);
  down.on('error', () => down.destroy());
  let original: { address: string; port: number };
  try {
    original = nativeNetns().originalDst((down as unknown as { _handle: { fd: number } })._handle.fd);
  } catch (err) {
    inputs.log.warn({ err, pod: `${pod.namespace}/${pod.name}` }, 'outbound connection without original destination (not redirected?)');
    down.destroy();
    return;
  }
  const src = pod.workload();
  const route = routeOutbound(inputs, original.address, original.port);
  const info: ConnectionInfo = {
    reporter: 'source',
    direction: 'outbound',
    podUid: pod.uid,
    srcIp: down.remoteAddress ?? '',
    srcWorkload: src ? workloadLabelOf(src) : 'unknown',
    srcNamespace: pod.namespace,
    srcIdentity: src ? identityOf(inputs.tls.trustDomain, src) : 'unknown',
    dst: `${original.address}:${original.port}`,
    // A workload label is an owner's name or `unknown`, never a Service's or a pod's.
    dstWorkload: route.kind !== 'refuse' && route.dst ? workloadLabelOf(route.dst) : UNKNOWN,
    dstNamespace: route.kind !== 'refuse' && route.dst ? route.dst.namespace : route.service?.namespace ?? UNKNOWN,
    dstIdentity: route.kind === 'hbone' ? route.identity : UNKNOWN,
    path: route.kind === 'hbone' && (route.service?.waypoint ?? route.dst?.waypoint) ? 'waypoint' : route.kind,
    dstPort: original.port,
    service: serviceLabelsOf(route.service),
    security: route.kind === 'hbone' ? 'mutual_tls' : route.kind === 'passthrough' ? 'none' : UNKNOWN,
  };
  const self = selfCall(pod, down, original.address, original.port) ?? (route.kind === 'passthrough' ? selfCall(pod, down, route.address, route.port) : undefined);
  if (self !== undefined) {
    inputs.connections.refusedWith(info, self);
    down.resetAndDestroy();
    return;
  }
  if (route.kind === 'refuse') {
    inputs.connections.refusedWith(info, route.error);
    down.resetAndDestroy();
    return;
  }
  down.pause();
  const done = route.balanceKey ? inputs.balancer.start(route.balanceKey) : undefined;
  if (route.kind === 'passthrough') {
    const up = pod.factory.connect(route.address, route.port);
    up.setNoDelay(true);
    const fail = (err: Error): void => {
      done?.(false);
      inputs.connections.refusedWith(info, connectFailed(`${route.address}:${route.port}`, err));
      down.resetAndDestroy();
    };
    up.once('error', fail);
    up.once('connect', () => {
      up.off('error', fail);
      done?.(true);
      start(inputs, info, down, up, () => [up.bytesWritten, up.bytesRead]);
    });
    return;
  }
  if (!src) {
    done?.(false);
    inputs.connections.refusedWith(info, workloadUnknown(pod));
    down.resetAndDestroy();
    return;
  }
  const tls = inputs.tls;
  const source = tls.identityOf(src.namespace, src.serviceAccount);
  const hop = route;
  const pool = inputs.pool.forPod(pod.uid, pod.factory);
  tls
    .certificate(source)
    .then((certificate) => {
      const request = { source, destination: SpiffeId.parse(hop.identity), authority: hop.authority, forwardedFor: info.srcIp || undefined, certificate, trustRoots: tls.roots() };
      if (hop.fallbackHops === undefined) return pool.connect({ ...request, nextHop: { host: hop.nextHop, port: HBONE_PORT } });
      return connectFailover(pool, request, [hop.nextHop, ...hop.fallbackHops], {
        balancer: inputs.balancer,
        onFailover: (replica, err) => inputs.log.debug({ err, replica, dst: info.dst }, 'waypoint replica unreachable; trying another'),
      });
    })
    .then(
      (stream) => {
        done?.(true);
        if (down.destroyed) {
          stream.destroy();
          return;
        }
        // Decided once both sides closed: a tunnel the far end reset after its 200 is not logged `ok`.
        const farEnd = (): Refusal | undefined => {
          const err = resetByFarEnd(stream, hop.nextHop, hop.authority);
          return err && { err };
        };
        start(inputs, info, down, stream, () => [down.bytesRead, down.bytesWritten], farEnd);
      },
      (err: unknown) => {
        done?.(false);
        inputs.connections.refusedWith(info, connectFailed(`${hop.nextHop}:${HBONE_PORT}`, err));
        inputs.log.debug({ err, dst: info.dst }, 'outbound HBONE failed');
        down.resetAndDestroy();
      },
    )
    // A throw in the handlers above would be an unhandled rejection, which ends the process.
    .catch((err: unknown) => {
      inputs.log.error({ err, dst: info.dst }, 'outbound connection setup failed');
      down.destroy();
    });
}

function start(inputs: ProxyInputs, info: ConnectionInfo, down: Socket, up: Duplex, bytes: () => [number, number], endedBy?: () => Refusal | undefined): TrackedConnection {
  const conn = inputs.connections.track(info, down, up, bytes, endedBy);
  void pipeTunnel(down, up);
  down.resume();
  return conn;
}
