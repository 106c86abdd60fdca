// Pins the lab's kube-proxy rules: each Service port DNATs to the ready addresses of its own
// EndpointSlices, at the slice port named as the Service port (of the same protocol), VIPs without
// endpoints are rejected, a pod reaching itself through its VIP is masqueraded, and the table is
// replaced atomically. (What is read of the API's slices: lab-endpoint-slices.test.ts;
// names in a pod's hosts file: lab-hosts-names.test.ts.)
import { describe, expect, it } from 'vitest';
import type { EndpointSliceView } from '../../lab/endpoint-slices.js';
import { renderProxyRules, type ServiceView } from '../../lab/services.js';

const svc: ServiceView = {
  namespace: 'demo',
  name: 'backend',
  vip: '10.96.3.4',
  selector: { app: 'b' },
  ports: [
    { name: 'http', port: 80, targetPort: 'http' },
    { name: 'grpc', port: 9090, targetPort: 9090 },
  ],
};
const slices: EndpointSliceView[] = [
  // Two slices of the Service: pods resolving the named port to different numbers.
  { namespace: 'demo', service: 'backend', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9090, protocol: 'TCP' }], addresses: ['10.244.1.5'] },
  { namespace: 'demo', service: 'backend', ports: [{ name: 'http', port: 8081, protocol: 'TCP' }], addresses: ['10.244.2.5'] },
  // Same name, other namespace or other Service: never this Service's endpoints.
  { namespace: 'other', service: 'backend', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: ['10.244.2.9'] },
  { namespace: 'demo', service: 'frontend', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: ['10.244.2.10'] },
];

describe('service rules', () => {
  it('DNATs each Service port to the addresses of its slices, at the slice port of the same name', () => {
    const rules = renderProxyRules([svc], slices);
    expect(rules).toContain('ip daddr 10.96.3.4 tcp dport 80 dnat ip to numgen random mod 2 map { 0 : 10.244.1.5 . 8080, 1 : 10.244.2.5 . 8081 }');
    expect(rules).toContain('ip daddr 10.96.3.4 tcp dport 9090 dnat ip to numgen random mod 1 map { 0 : 10.244.1.5 . 9090 }');
    expect(rules).not.toContain('10.244.2.9');
    expect(rules).not.toContain('10.244.2.10');
    expect(rules).toContain('ip saddr 10.244.1.5 ip daddr 10.244.1.5 ct status dnat masquerade');
    expect(rules).toContain('ip saddr 10.244.2.5 ip daddr 10.244.2.5 ct status dnat masquerade');
  });

  it('an unnamed Service port matches the unnamed slice port, and only of its protocol', () => {
    const dns: ServiceView = { namespace: 'demo', name: 'dns', vip: '10.96.0.10', selector: { app: 'dns' }, ports: [{ port: 53, protocol: 'UDP' }] };
    const tcpOnly: EndpointSliceView = { namespace: 'demo', service: 'dns', ports: [{ name: '', port: 5353, protocol: 'TCP' }], addresses: ['10.244.1.7'] };
    expect(renderProxyRules([dns], [tcpOnly])).not.toContain('dnat');
    const udp: EndpointSliceView = { ...tcpOnly, ports: [{ name: '', port: 5353, protocol: 'UDP' }] };
    expect(renderProxyRules([dns], [udp])).toContain('ip daddr 10.96.0.10 udp dport 53 dnat ip to numgen random mod 1 map { 0 : 10.244.1.7 . 5353 }');
  });

  it('replaces the table in one transaction and rejects VIPs with no endpoint', () => {
    const rules = renderProxyRules([svc], []);
    expect(rules.startsWith('table ip weftlab {}\ndelete table ip weftlab\ntable ip weftlab {')).toBe(true);
    expect(rules).not.toContain('dnat');
    expect(rules).toContain('ip daddr 10.96.0.0/16 meta l4proto tcp reject with tcp reset');
  });
});
