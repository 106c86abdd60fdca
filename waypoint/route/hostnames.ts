import { CLUSTER_DOMAIN } from '../config.js';
import { hostWithoutPort } from './filters.js';

// Route `hostnames` (httproute_types.go): matched against the Host header without its port, case-
// insensitively; `*.example.com` matches any name with at least one more label (`a.example.com`,
// `a.b.example.com`, never `example.com`). A route without hostnames matches every host. In the mesh the
// parent Service is already chosen by VIP, so the short names a client may use for it (`svc`, `svc.ns`,
// `svc.ns.svc`) also count as its FQDN `svc.ns.svc.cluster.local`.

/** The names a request's Host stands for, lower case; built once per request, only when a route has hostnames. */
export function hostCandidates(authority: string, service: { readonly name: string; readonly namespace: string }): string[] {
  let h = hostWithoutPort(authority).toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  const { name, namespace } = service;
  if (h === name || h === `${name}.${namespace}` || h === `${name}.${namespace}.svc`) return [h, `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`];
  return [h];
}

export function hostnameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return host.length > p.length - 1 && host.endsWith(p.slice(1));
  return p === host;
}

/** Whether a route with these hostnames applies to a request for `hosts` (undefined: no route of the set has hostnames). */
export function routeAcceptsHost(hostnames: readonly string[], hosts: readonly string[] | undefined): boolean {
  if (hostnames.length === 0 || hosts === undefined) return true;
  for (const p of hostnames) for (const h of hosts) if (hostnameMatches(p, h)) return true;
  return false;
}
