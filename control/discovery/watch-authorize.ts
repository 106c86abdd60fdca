import type { ServerWritableStream } from '@grpc/grpc-js';
import { WeftError } from '../../lib/errors/index.js';
import { CONTROL_NAMESPACE } from '../../lib/names.js';
import { isResourceKind } from '../../lib/control-client/convert.js';
import type { WatchRequest, WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import type { ClusterSource } from '../sources/source.js';
import { bearerToken } from '../identity/certify-service.js';
import { roleOf } from '../identity/callers.js';
import type { TokenVerifier } from '../identity/tokens.js';
import type { WatchScope } from './watch-scope.js';

export interface WatchAuthorizeOptions {
  readonly source: ClusterSource;
  /** Verifies callers when set (the process always sets it; some tests leave it out). */
  readonly verifier?: TokenVerifier;
  readonly controlNamespace?: string;
}

/**
 * The scope a DiscoveryService.Watch request asks for, checked against its caller: a node agent may watch
 * only its own node, a waypoint only itself. Throws a coded error (bad request, permission denied).
 */
export async function authorizeWatch(call: ServerWritableStream<WatchRequest, WatchResponse>, options: WatchAuthorizeOptions): Promise<WatchScope> {
  const req = call.request;
  let scope: WatchScope;
  if (req.waypoint) {
    const [namespace, name, extra] = req.waypoint.split('/');
    if (!namespace || !name || extra !== undefined) throw new WeftError('ERR_WEFT_CONTROL_BAD_REQUEST', { reason: 'waypoint must be <namespace>/<name>' });
    scope = { type: 'waypoint', namespace, name };
  } else if (req.node) {
    scope = { type: 'node', node: req.node };
  } else {
    throw new WeftError('ERR_WEFT_CONTROL_BAD_REQUEST', { reason: 'a watch names its node or its waypoint' });
  }
  for (const k of req.kinds) if (!isResourceKind(k)) throw new WeftError('ERR_WEFT_CONTROL_BAD_REQUEST', { reason: `unknown kind ${k}` });
  const verifier = options.verifier;
  if (!verifier) return scope;
  const caller = await verifier.verify(bearerToken(call.metadata, 'DiscoveryService.Watch'));
  const role = roleOf(caller, options.source, options.controlNamespace ?? CONTROL_NAMESPACE);
  const who = `system:serviceaccount:${caller.namespace}:${caller.serviceAccount}`;
  if (scope.type === 'node' && !(role.role === 'node-agent' && role.node === scope.node)) {
    throw new WeftError('ERR_WEFT_CONTROL_PERMISSION_DENIED', { caller: who, identity: `the state of node ${scope.node}`, reason: role.role === 'other' ? role.reason : 'it is not that node\'s agent' });
  }
  if (scope.type === 'waypoint' && !(role.role === 'waypoint' && role.namespace === scope.namespace && role.gateway === scope.name)) {
    throw new WeftError('ERR_WEFT_CONTROL_PERMISSION_DENIED', { caller: who, identity: `the state of waypoint ${req.waypoint}`, reason: role.role === 'other' ? role.reason : 'it is not that waypoint' });
  }
  return scope;
}
