// Pins the lab's kube-proxy: each Service port DNATs to the ready endpoints selected in its own
// namespace (named target ports resolved per endpoint), VIPs without endpoints are rejected, and the
// table is replaced atomically. (Names in a pod's hosts file: lab-hosts-names.test.ts.)
import { describe, expect, it } from 'vitest';
import { renderProxyRules, targetPortOf, type Endpoint, type ServiceView } from '../../lab/services.js';

const eps: Endpoint[] = [
  { namespace: 'demo', name: 'b1', ip: '10.244.1.5', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8080 }] },
  { namespace: 'demo', name: 'b2', ip: '10.244.2.5', labels: { app: 'b' }, ports: [{ name: 'http', containerPort: 8081 }] },
  { namespace: 'other', name: 'b3', ip: '10.244.2.9', labels: { app: 'b' }, ports: [] },
];
const svc: ServiceView = { namespace: 'demo', name: 'backend', vip: '10.96.3.4', selector: { app: 'b' }, ports: [{ port: 80, targetPort: 'http' }] };

describe('service rules', () => {
  it('DNATs VIP:port to each ready endpoint of the same namespace, resolving named ports', () => {
    const rules = renderProxyRules([svc], eps);
    expect(rules).toContain('ip daddr 10.96.3.4 tcp dport 80 dnat ip to numgen random mod 2 map { 0 : 10.244.1.5 . 8080, 1 : 10.244.2.5 . 8081 }');
    expect(rules).not.toContain('10.244.2.9');
    expect(rules).toContain('ip saddr 10.244.1.5 ip daddr 10.244.1.5 ct status dnat masquerade');
  });

  it('replaces the table in one transaction and rejects VIPs with no endpoint', () => {
    const rules = renderProxyRules([svc], []);
    expect(rules.startsWith('table ip weftlab {}\ndelete table ip weftlab\ntable ip weftlab {')).toBe(true);
    expect(rules).not.toContain('dnat');
    expect(rules).toContain('ip daddr 10.96.0.0/16 meta l4proto tcp reject with tcp reset');
  });

  it('targetPort defaults to port and accepts numbers and numeric strings', () => {
    expect(targetPortOf({ port: 80 }, eps[0])).toBe(80);
    expect(targetPortOf({ port: 80, targetPort: 9000 }, eps[0])).toBe(9000);
    expect(targetPortOf({ port: 80, targetPort: '9001' }, eps[0])).toBe(9001);
    expect(targetPortOf({ port: 80, targetPort: 'nope' }, eps[0])).toBeUndefined();
  });
});
