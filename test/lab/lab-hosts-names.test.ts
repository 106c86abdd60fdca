// Pins the names a lab pod resolves (its hosts file) to those Kubernetes DNS and the pod's search path
// give: a Service as <svc>.<ns>, <svc>.<ns>.svc and <svc>.<ns>.svc.cluster.local from any namespace, and
// as <svc> only from its own namespace. Before, other pods resolved by bare name and <pod>.<ns> (and the
// pod itself as <pod>.<ns>), so a Pod and a Service of the same name collided: from inside pod `web`,
// `web.shop` reached the pod instead of the Service `web`.
import { describe, expect, it } from 'vitest';
import { renderHosts, type ServiceView } from '../../lab/services.js';

/** What glibc's files backend answers: the address of the first line that lists the name. */
function resolve(hosts: string, name: string): string | undefined {
  for (const line of hosts.split('\n')) {
    const [ip, ...names] = line.split(/\s+/).filter(Boolean);
    if (ip !== undefined && !ip.startsWith('#') && names.includes(name)) return ip;
  }
  return undefined;
}

const svc = (namespace: string, name: string, vip: string): ServiceView => ({ namespace, name, vip, selector: { app: name }, ports: [{ port: 80 }] });

describe('pod hosts names', () => {
  const services = [svc('shop', 'web', '10.96.0.10'), svc('shop', 'cart', '10.96.0.11'), svc('db', 'pg', '10.96.0.12')];

  it('a Service resolves by its namespaced names from anywhere, by its bare name only in its namespace', () => {
    const fromShop = renderHosts({ namespace: 'shop', name: 'client', ip: '10.244.1.3' }, services);
    const fromOther = renderHosts({ namespace: 'other', name: 'client', ip: '10.244.1.4' }, services);
    for (const hosts of [fromShop, fromOther]) {
      for (const n of ['cart.shop', 'cart.shop.svc', 'cart.shop.svc.cluster.local']) expect(resolve(hosts, n), n).toBe('10.96.0.11');
      for (const n of ['pg.db', 'pg.db.svc', 'pg.db.svc.cluster.local']) expect(resolve(hosts, n), n).toBe('10.96.0.12');
    }
    expect(resolve(fromShop, 'cart')).toBe('10.96.0.11');
    expect(resolve(fromShop, 'pg')).toBeUndefined();
    expect(resolve(fromOther, 'cart')).toBeUndefined();
  });

  it('a pod named like a Service does not take its names, even from inside that pod', () => {
    // Pod `web` in shop, behind (or beside) Service `web`.
    const inWeb = renderHosts({ namespace: 'shop', name: 'web', ip: '10.244.2.7' }, services);
    for (const n of ['web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local']) expect(resolve(inWeb, n), n).toBe('10.96.0.10');
    // Only the pod's hostname line names the pod, as a kubelet-written /etc/hosts does.
    expect(inWeb.split('\n').filter((l) => l.startsWith('10.244.'))).toEqual(['10.244.2.7\tweb']);
  });

  it('other pods have no names, and the pod has no <pod>.<ns> name', () => {
    const hosts = renderHosts({ namespace: 'shop', name: 'client', ip: '10.244.1.3' }, services);
    expect(resolve(hosts, 'client.shop')).toBeUndefined();
    expect(resolve(hosts, 'client')).toBe('10.244.1.3');
    expect(hosts.match(/10\.244\./g)).toHaveLength(1);
  });

  it('keeps localhost and the extra names (the control plane) the lab adds', () => {
    const hosts = renderHosts({ namespace: 'shop', name: 'client', ip: '10.244.1.3' }, [], [{ ip: '172.30.0.254', names: ['weft-control.weft-system.svc'] }]);
    expect(resolve(hosts, 'localhost')).toBe('127.0.0.1');
    expect(resolve(hosts, 'weft-control.weft-system.svc')).toBe('172.30.0.254');
  });
});
