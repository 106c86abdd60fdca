import type { Socket } from 'node:net';
import { nativeNetns } from '../netns/native.js';
import type { ConnectionInfo } from './connections.js';
import { WeftError } from '../../lib/errors/index.js';
import { connectFailed, workloadUnknown } from './refusals.js';
import { identityOf, type PodContext, type ProxyInputs } from './inputs.js';
import { selfCall } from './self-call.js';
import { pipeTunnel } from '../../lib/hbone/index.js';
import { workloadLabelOf } from '../../lib/model/index.js';
import { dryRunContext } from './dry-run-context.js';
import { serviceLabelsOf } from '../../lib/telemetry/istio-labels.js';

/**
 * Plaintext inbound (15006): a peer outside the mesh reached a captured pod. Refused when the pod is
 * in strict mTLS mode (strict-mtls.ts); otherwise allowed only when the pod's policies allow an unauthenticated peer (no ALLOW policy, or one matching by IP/port); then
 * connected to the app from inside the pod with the client's own IP as source.
 */
export function handleInboundPlain(inputs: ProxyInputs, pod: PodContext, down: Socket): void {
  down.setNoDelay(true);
  down.on('error', () => down.destroy());
  let original: { address: string; port: number };
  try {
    original = nativeNetns().originalDst((down as unknown as { _handle: { fd: number } })._handle.fd);
  } catch {
    down.destroy();
    return;
  }
  const srcIp = down.remoteAddress ?? '';
  // A plaintext peer proves no identity: its IP alone names its workload, if it is a known pod.
  const src = inputs.peers.resolve(undefined, srcIp);
  const dstW = pod.workload();
  const info: ConnectionInfo = {
    reporter: 'destination',
    direction: 'inbound-plain',
    podUid: pod.uid,
    srcIp,
    srcWorkload: src.workload,
    srcNamespace: src.namespace,
    srcIdentity: 'unknown',
    dst: `${original.address}:${original.port}`,
    dstWorkload: dstW ? workloadLabelOf(dstW) : 'unknown',
    dstNamespace: pod.namespace,
    dstIdentity: dstW ? identityOf(inputs.tls.trustDomain, dstW) : 'unknown',
    path: 'plaintext',
    dstPort: original.port,
    service: serviceLabelsOf(dstW ? inputs.endpointServices.of(dstW.uid, original.port) : undefined),
    security: 'none',
  };
  // Checked before policy: the default policy allows a peer outside the mesh, and it must not be able
  // to make the agent connect to its own listeners.
  const self = selfCall(pod, down, original.address, original.port);
  if (self !== undefined) {
    inputs.connections.refusedWith(info, self);
    down.resetAndDestroy();
    return;
  }
  if (!dstW) {
    inputs.connections.refusedWith(info, workloadUnknown(pod));
    down.resetAndDestroy();
    return;
  }
  const strict = inputs.strictMtls.refusal(info, dstW);
  if (strict) {
    inputs.connections.refusedWith(info, strict);
    down.resetAndDestroy();
    return;
  }
  const policies = inputs.authz.forWorkload(dstW);
  const req = { principal: undefined, sourceIp: srcIp, port: original.port };
  const decision = policies.authorizeL4(req);
  info.authz = decision;
  if (policies.dryRun !== undefined) info.wouldBe = inputs.dryRun.l4(policies, req, decision, dryRunContext(info));
  if (!decision.allowed) {
    const err = new WeftError('ERR_WEFT_AGENT_DENIED', { source: `${srcIp} (plaintext peer)`, destination: info.dstIdentity, policy: decision.policy ?? decision.reason });
    inputs.connections.refusedWith(info, err, decision.policy);
    down.resetAndDestroy();
    return;
  }
  down.pause();
  const up = pod.factory.connect(original.address, original.port, { sourceAddress: srcIp });
  up.setNoDelay(true);
  const fail = (err: Error): void => {
    inputs.connections.refusedWith(info, connectFailed(`${original.address}:${original.port}`, err));
    down.resetAndDestroy();
  };
  up.once('error', fail);
  up.once('connect', () => {
    up.off('error', fail);
    inputs.connections.track(info, down, up, () => [up.bytesWritten, up.bytesRead]);
    void pipeTunnel(down, up);
    down.resume();
  });
}
