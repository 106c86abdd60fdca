import type { Logger } from '../../lib/telemetry/log.js';
import { endpointSliceView, type EndpointSliceView } from '../endpoint-slices.js';
import { serviceView, type ServiceView } from '../services.js';
import type { NodeApi } from './node-api.js';
import { NodeWatch } from './node-watch.js';

/**
 * What a lab node's kube-proxy reads from the API server with its own credentials (`system:kube-proxy`,
 * node-credentials.ts): every Service and every EndpointSlice, which the real kube-controller-manager's
 * EndpointSlice controller keeps for the Services with a selector. Both the node's Service rules and its
 * pods' names (hosts files) come from here.
 */
export class ProxyWatch {
  private readonly services: NodeWatch;
  private readonly slices: NodeWatch;

  constructor(api: NodeApi, onChange: () => void, log: Logger) {
    this.services = new NodeWatch(api, { path: '/api/v1/services', kind: 'Service', what: 'the Services', onChange, log });
    this.slices = new NodeWatch(api, {
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      what: 'the EndpointSlices',
      onChange,
      log,
    });
  }

  start(): void {
    this.services.start();
    this.slices.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.slices.stop()]);
  }

  /** Both first lists arrived: before that, a Service without slices is "not known yet", not "no endpoints". */
  get isSynced(): boolean {
    return this.services.isSynced && this.slices.isSynced;
  }

  serviceViews(): ServiceView[] {
    return this.services.list().flatMap((o) => serviceView(o) ?? []);
  }

  sliceViews(): EndpointSliceView[] {
    return this.slices.list().flatMap((o) => endpointSliceView(o) ?? []);
  }
}
