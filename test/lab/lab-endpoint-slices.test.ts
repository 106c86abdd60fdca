// Pins what the lab's kube-proxy takes from EndpointSlices: from the API server's, the owning Service
// (kubernetes.io/service-name), the named ports and the ready endpoints only; and the file store's
// stand-in controller, which makes the same shape from ready pods the Service selects in its namespace,
// resolving named target ports per pod. (The rules rendered from them: lab-service-rules.test.ts.)
import { describe, expect, it } from 'vitest';
import { endpointSliceView, podEndpointSlices, targetPortOf, type ReadyPod } from '../../lab/endpoint-slices.js';
import type { KubeObject } from '../../lab/manifests.js';
import type { ServiceView } from '../../lab/services.js';

function apiSlice(over: Record<string, unknown> = {}, labels: Record<string, string> = { 'kubernetes.io/service-name': 'weft-control' }): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'weft-control-x7k2p', namespace: 'weft-system', labels },
    addressType: 'IPv4',
    ports: [{ name: 'grpc', port: 15012, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.4'], conditions: { ready: true } },
      { addresses: ['10.244.2.4'], conditions: { ready: false, serving: true } },
      { addresses: ['10.244.2.6'], conditions: {} },
    ],
    ...over,
  };
}

describe('EndpointSlices for the lab kube-proxy', () => {
  it('an API slice gives its Service, its ports and its ready addresses (unset ready counts as ready, as the API documents)', () => {
    expect(endpointSliceView(apiSlice())).toEqual({
      namespace: 'weft-system',
      service: 'weft-control',
      ports: [{ name: 'grpc', port: 15012, protocol: 'TCP' }],
      addresses: ['10.244.1.4', '10.244.2.6'],
    });
  });

  it('ignores slices of no Service, IPv6 slices, and slices without endpoints or ports yet', () => {
    expect(endpointSliceView(apiSlice({}, {}))).toBeUndefined();
    expect(endpointSliceView(apiSlice({ addressType: 'IPv6' }))).toBeUndefined();
    expect(endpointSliceView(apiSlice({ ports: null, endpoints: null }))).toEqual({ namespace: 'weft-system', service: 'weft-control', ports: [], addresses: [] });
  });

  const pods: ReadyPod[] = [
    { namespace: 'demo', ip: '10.244.1.5', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8080 }] },
    { namespace: 'demo', ip: '10.244.1.6', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8080 }] },
    { namespace: 'demo', ip: '10.244.2.5', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8081 }] },
    { namespace: 'other', ip: '10.244.2.9', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8080 }] },
    { namespace: 'demo', ip: '10.244.2.7', labels: { app: 'c' }, ports: [{ name: 'http', containerPort: 8080 }] },
  ];

  it('the file store\'s slices: the selected ready pods of the namespace, one slice per resolved port set', () => {
    const svc: ServiceView = { namespace: 'demo', name: 'backend', vip: '10.96.3.4', selector: { app: 'b' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] };
    expect(podEndpointSlices([svc], pods)).toEqual([
      { namespace: 'demo', service: 'backend', ports: [{ name: 'web', port: 8080, protocol: 'TCP' }], addresses: ['10.244.1.5', '10.244.1.6'] },
      { namespace: 'demo', service: 'backend', ports: [{ name: 'web', port: 8081, protocol: 'TCP' }], addresses: ['10.244.2.5'] },
    ]);
    expect(podEndpointSlices([{ ...svc, selector: undefined }], pods)).toEqual([]);
  });

  it('targetPort defaults to port and accepts numbers, numeric strings and container port names', () => {
    expect(targetPortOf({ port: 80 }, pods[0])).toBe(80);
    expect(targetPortOf({ port: 80, targetPort: 9000 }, pods[0])).toBe(9000);
    expect(targetPortOf({ port: 80, targetPort: '9001' }, pods[0])).toBe(9001);
    expect(targetPortOf({ port: 80, targetPort: 'http' }, pods[2])).toBe(8081);
    expect(targetPortOf({ port: 80, targetPort: 'nope' }, pods[0])).toBeUndefined();
  });
});
