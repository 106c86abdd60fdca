import type { GatewayClassObject, GatewayClassStatus, GatewayObject, GatewayStatus, ServiceObject } from '../sources/schemas.js';
import { WEFT_CONTROLLER_NAME, condition } from './conditions.js';
import { HBONE_PORT } from '../../lib/names.js';

/** The one listener a weft waypoint Gateway has (ARCHITECTURE.md, Names). */
export const WAYPOINT_LISTENER = { name: 'mesh', port: HBONE_PORT, protocol: 'HBONE' } as const;

/** GatewayClass `Accepted` (gateway-api GatewayClassConditionReason: Accepted / InvalidParameters / Unsupported). */
export function gatewayClassStatus(gc: GatewayClassObject, now?: Date, invalidParameters?: string): GatewayClassStatus {
  const prev = gc.status?.conditions;
  const gen = gc.metadata.generation;
  const ours = gc.spec.controllerName === WEFT_CONTROLLER_NAME;
  const accepted = !ours
    ? condition('Accepted', false, 'Unsupported', `controllerName must be ${WEFT_CONTROLLER_NAME}`, gen, prev, now)
    : invalidParameters !== undefined
      ? condition('Accepted', false, 'InvalidParameters', invalidParameters, gen, prev, now)
      : condition('Accepted', true, 'Accepted', 'Handled by the weft waypoint controller', gen, prev, now);
  return { ...gc.status, conditions: [accepted] };
}

export interface WaypointDeployment {
  /** The waypoint Service as the source sees it now (undefined until applied and observed). */
  readonly service?: ServiceObject;
  /** Whether the Deployment, ServiceAccount and Service have been applied. */
  readonly applied: boolean;
  /** Set when applying failed. */
  readonly error?: string;
  /** Replicas wanted and ready (pods Ready); when given, Programmed needs at least one ready. */
  readonly replicas?: { readonly wanted: number; readonly ready: number };
  /** Why node agents cannot route through the waypoint yet (discovery has not delivered a ready
   *  replica to every node agent of the namespace); undefined when they can. */
  readonly notPropagated?: string;
}

/**
 * Gateway `Accepted` / `Programmed` with its address. Programmed claims what a client needs (issue 13
 * item 4): a Service address, at least one waypoint replica Ready (its HBONE listener serving), and the
 * node agents of the namespace told of it by discovery; `weft waypoint apply --wait` waits for exactly this, and the listener status (gateway-api reasons:
 * Accepted: Accepted | ListenersNotValid | UnsupportedAddress; Programmed: Programmed | Pending |
 * AddressNotAssigned | Invalid).
 */
export function waypointGatewayStatus(gw: GatewayObject, deployment: WaypointDeployment, now?: Date): GatewayStatus {
  const prev = gw.status?.conditions;
  const gen = gw.metadata.generation;
  const listeners = gw.spec.listeners;
  const listenerOk =
    listeners.length === 1 &&
    listeners[0]?.port === WAYPOINT_LISTENER.port &&
    listeners[0]?.protocol === WAYPOINT_LISTENER.protocol;
  const hasAddresses = (gw.spec.addresses?.length ?? 0) > 0;
  const accepted = hasAddresses
    ? condition('Accepted', false, 'UnsupportedAddress', 'weft waypoints take the address of their generated Service; remove spec.addresses', gen, prev, now)
    : listenerOk
      ? condition('Accepted', true, 'Accepted', 'Resource accepted', gen, prev, now)
      : condition('Accepted', false, 'ListenersNotValid', `a weft waypoint has exactly one listener {port: ${WAYPOINT_LISTENER.port}, protocol: ${WAYPOINT_LISTENER.protocol}}`, gen, prev, now);
  const ips = deployment.service?.spec?.clusterIPs ?? (deployment.service?.spec?.clusterIP !== undefined ? [deployment.service.spec.clusterIP] : []);
  const addresses = ips.filter((ip) => ip !== '' && ip !== 'None').map((value) => ({ type: 'IPAddress', value }));
  let programmed;
  if (deployment.error !== undefined) programmed = condition('Programmed', false, 'Invalid', `applying the waypoint failed: ${deployment.error}`, gen, prev, now);
  else if (!deployment.applied || deployment.service === undefined) programmed = condition('Programmed', false, 'Pending', 'Waiting for the waypoint Deployment and Service', gen, prev, now);
  else if (addresses.length === 0) programmed = condition('Programmed', false, 'AddressNotAssigned', 'The waypoint Service has no cluster IP yet', gen, prev, now);
  else if (deployment.replicas !== undefined && deployment.replicas.ready === 0)
    programmed = condition('Programmed', false, 'Pending', `Waiting for a waypoint replica to be ready: 0 of ${deployment.replicas.wanted} ready`, gen, prev, now);
  else if (deployment.notPropagated !== undefined) programmed = condition('Programmed', false, 'Pending', `Waiting for the node agents: ${deployment.notPropagated}`, gen, prev, now);
  else programmed = condition('Programmed', true, 'Programmed', `Resource programmed, assigned to service ${gw.metadata.namespace ?? ''}/${gw.metadata.name}`, gen, prev, now);
  const prevListeners = gw.status?.listeners ?? [];
  return {
    ...gw.status,
    addresses,
    conditions: [accepted, programmed],
    listeners: listeners.map((l) => {
      const lp = prevListeners.find((x) => x.name === l.name)?.conditions;
      const ok = listenerOk;
      return {
        name: l.name,
        supportedKinds: [],
        attachedRoutes: 0,
        conditions: [
          ok ? condition('Accepted', true, 'Accepted', 'Listener accepted', gen, lp, now) : condition('Accepted', false, 'UnsupportedProtocol', `only ${WAYPOINT_LISTENER.protocol} on ${WAYPOINT_LISTENER.port} is supported`, gen, lp, now),
          condition('Programmed', programmed.status === 'True', programmed.status === 'True' ? 'Programmed' : 'Pending', programmed.message ?? '', gen, lp, now),
          condition('ResolvedRefs', true, 'ResolvedRefs', 'No references to resolve', gen, lp, now),
        ],
      };
    }),
  };
}
