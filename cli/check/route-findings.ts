import { WEFT_CONTROLLER_NAME } from '../../control/status/conditions.js';
import type { KubeObject } from '../../lib/kube/cluster-client.js';
import type { Condition } from '../kube/conditions.js';
import { Gateway, GRPCRoute, HTTPRoute, Service } from '../../lib/kube/resources.js';
import { closestName } from './closest-name.js';
import { editAdvice, listInstalled, nameOf, weftCommand, type Analysis, type AnalyzerContext } from './context.js';
import { finding, type Finding } from './findings.js';

/**
 * HTTPRoutes and GRPCRoutes: what weft-control wrote in their status (Accepted, ResolvedRefs,
 * PartiallyInvalid of its own parent entries: WEFT-C001, C002, C004), and parentRefs naming a Service or
 * Gateway that does not exist (WEFT-C003), which for a Gateway no controller reports at all.
 */
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

interface ParentRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

interface ParentStatus {
  parentRef: ParentRef;
  controllerName: string;
  conditions?: Condition[];
}

function parentKind(ref: ParentRef): 'Service' | 'Gateway' | undefined {
  const kind = ref.kind ?? 'Gateway';
  const group = ref.group ?? GATEWAY_GROUP;
  if (kind === 'Service' && (group === '' || group === 'core')) return 'Service';
  if (kind === 'Gateway' && group === GATEWAY_GROUP) return 'Gateway';
  return undefined;
}

function sameRef(a: ParentRef, b: ParentRef): boolean {
  return parentKind(a) === parentKind(b) && a.name === b.name && a.namespace === b.namespace && a.port === b.port;
}

export async function routeFindings(ctx: AnalyzerContext): Promise<Analysis> {
  const { client } = ctx;
  const routes = [...(await listInstalled(client, HTTPRoute)), ...(await listInstalled(client, GRPCRoute))];
  const names = { Service: namesByNamespace(await client.list(Service)), Gateway: namesByNamespace(await listInstalled(client, Gateway)) };
  const findings: Finding[] = [];
  for (const route of routes) {
    const ns = route.metadata.namespace ?? 'default';
    const object = `${route.kind} ${nameOf(route)}`;
    const edit = editAdvice(client, route.kind, ns, route.metadata.name);
    const missing: ParentRef[] = [];
    for (const ref of ((route.spec?.parentRefs ?? []) as ParentRef[])) {
      const kind = parentKind(ref);
      if (kind === undefined) continue;
      const pns = ref.namespace ?? ns;
      const existing = names[kind].get(pns) ?? new Set<string>();
      if (existing.has(ref.name)) continue;
      missing.push(ref);
      const near = closestName(ref.name, existing);
      findings.push(
        finding(
          'WEFT-C003',
          object,
          `parentRef ${kind} ${pns}/${ref.name} does not exist${near === undefined ? '' : ` (did you mean ${near}?)`}${kind === 'Gateway' ? '; no controller answers for it, so the route has no status and no effect' : ''}`,
          `Correct spec.parentRefs${near === undefined ? '' : ` to ${near}`}; ${edit}`,
        ),
      );
    }
    const ours = ((route.status?.parents ?? []) as ParentStatus[]).filter((p) => p.controllerName === WEFT_CONTROLLER_NAME && !missing.some((m) => sameRef(m, p.parentRef)));
    let refsReported = false;
    let partialReported = false;
    for (const p of ours) {
      const parent = `${parentKind(p.parentRef) ?? p.parentRef.kind ?? ''} ${p.parentRef.namespace ?? ns}/${p.parentRef.name}`;
      for (const c of p.conditions ?? []) {
        const why = `${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`;
        if (c.type === 'Accepted' && c.status === 'False') {
          const fix = /has no waypoint/.test(c.message ?? '')
            ? `Give the Service a waypoint: \`${weftCommand(client, `waypoint apply -n ${p.parentRef.namespace ?? ns} --enroll-namespace --wait`)}\`; or ${edit}`
            : `Fix what the message says; ${edit}`;
          findings.push(finding('WEFT-C001', object, `not accepted for parent ${parent}: ${why}`, fix));
        } else if (c.type === 'ResolvedRefs' && c.status === 'False' && !refsReported) {
          refsReported = true; // the same for every parent (control/status/routes.ts)
          findings.push(finding('WEFT-C002', object, `references not resolved: ${why}`, `Create what is missing or correct the backendRefs; ${edit}`));
        } else if (c.type === 'PartiallyInvalid' && c.status === 'True' && !partialReported) {
          partialReported = true;
          findings.push(finding('WEFT-C004', object, `partly ignored: ${why}`, `Fix the values named; ${edit}`));
        }
      }
    }
  }
  return { examined: `${routes.length} route(s)`, findings };
}

function namesByNamespace(objects: readonly KubeObject[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of objects) {
    const ns = o.metadata.namespace ?? 'default';
    let set = out.get(ns);
    if (set === undefined) out.set(ns, (set = new Set()));
    set.add(o.metadata.name);
  }
  return out;
}
