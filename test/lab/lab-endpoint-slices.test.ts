// Pins what the lab's kube-proxy takes from the API server's EndpointSlices: the owning Service
// (kubernetes.io/service-name), the named ports and the ready endpoints only. (The rules rendered from
// them: lab-service-rules.test.ts.)
import { describe, expect, it } from 'vitest';
import { endpointSliceView } from '../../lab/endpoint-slices.js';
import type { KubeObject } from '../../lab/manifests.js';

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
});
