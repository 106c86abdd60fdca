import { installCapture } from '../../node-agent/enroll/capture.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import type { ProxyInputs } from '../../node-agent/proxy/inputs.js';
import type { NetnsSandbox, PodNet } from './netns.js';

/**
 * Enrolls a sandbox pod into an in-process data plane as the agent does: its listeners inside the pod's
 * netns and the capture rules (namespace `shop`, uid `uid-<name>`). The caller stops the proxy.
 */
export async function enrollPod(inputs: ProxyInputs, sb: NetnsSandbox, p: PodNet, name: string): Promise<PodProxy> {
  const proxy = new PodProxy(inputs, { uid: `uid-${name}`, namespace: 'shop', name, ips: [p.ip] }, new NetnsSocketFactory(p.path));
  await proxy.start();
  await installCapture({ netns: p.path, probeSources: [sb.gateway] }, name);
  return proxy;
}
