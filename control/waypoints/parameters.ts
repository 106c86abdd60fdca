import { z } from 'zod';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import { asKind } from '../sources/schemas.js';
import type { ClusterSource } from '../sources/source.js';

/**
 * The waypoint GatewayClass's parameters (Gateway API `parametersRef`, as Istio reads its GatewayClass
 * parameters): a ConfigMap in the control plane's namespace that the chart renders as `weft-waypoint`
 * (helm/weft/templates/waypoint.yaml). Plain keys hold strings, `*.json` keys hold the Kubernetes
 * objects of the same name; every key is optional and falls back to the controller's defaults.
 */
export interface WaypointParameters {
  readonly image?: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  readonly logLevel?: string;
  readonly controlAddress?: string;
  readonly replicas?: number;
  readonly resources?: Record<string, unknown>;
  readonly podSecurityContext?: Record<string, unknown>;
  readonly securityContext?: Record<string, unknown>;
  /** `maxUnavailable` or `minAvailable` of each waypoint's PodDisruptionBudget. */
  readonly podDisruptionBudget?: { maxUnavailable?: number | string; minAvailable?: number | string };
  /**
   * Secrets the waypoint pods pull their image with (the chart's `imagePullSecrets`). Secrets are
   * namespaced: each one must exist in every namespace that runs a waypoint, as with Istio's gateways.
   */
  readonly imagePullSecrets?: readonly { name: string }[];
}

export type ParametersResult =
  | { readonly ok: true; readonly parameters: WaypointParameters; /** `namespace/name` of the ConfigMap, when one is used */ readonly from?: string }
  | { readonly ok: false; readonly reason: string };

const intOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, 'must be an integer or a percentage like 50%')]);
const ResourcesSchema = z.looseObject({ requests: z.record(z.string(), z.union([z.string(), z.number()])).optional(), limits: z.record(z.string(), z.union([z.string(), z.number()])).optional() });
const ObjectSchema = z.record(z.string(), z.unknown());
// A DNS-1123 subdomain, as the API server requires of a Secret's name.
const PullSecretsSchema = z.array(z.strictObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Secret name (lower-case DNS subdomain)') })).max(16);
const PdbSchema = z.strictObject({ maxUnavailable: intOrPercent.optional(), minAvailable: intOrPercent.optional() }).refine((p) => p.maxUnavailable === undefined || p.minAvailable === undefined, 'set maxUnavailable or minAvailable, not both');

const PLAIN_KEYS = ['image', 'imagePullPolicy', 'logLevel', 'controlAddress', 'replicas'] as const;
const JSON_KEYS = { 'resources.json': ResourcesSchema, 'podSecurityContext.json': ObjectSchema, 'securityContext.json': ObjectSchema, 'podDisruptionBudget.json': PdbSchema, 'imagePullSecrets.json': PullSecretsSchema } as const;

const RefSchema = z.looseObject({ group: z.string(), kind: z.string(), name: z.string().min(1), namespace: z.string().optional() });

/**
 * Reads the parameters of GatewayClass `weft-waypoint`. No class or no parametersRef: no parameters (the
 * defaults). A ref that is not a core ConfigMap in `controlNamespace` (the only namespace whose ConfigMaps
 * the control plane watches), a missing ConfigMap or an unreadable key: not ok, with the reason, which
 * the class status reports as InvalidParameters.
 */
export function waypointParameters(source: Pick<ClusterSource, 'get'>, controlNamespace: string): ParametersResult {
  const gc = asKind(source.get({ kind: 'GatewayClass', name: WAYPOINT_CLASS }), 'GatewayClass');
  const raw = gc?.spec.parametersRef;
  if (raw === undefined) return { ok: true, parameters: {} };
  const ref = RefSchema.safeParse(raw);
  if (!ref.success) return { ok: false, reason: 'spec.parametersRef needs group, kind, name and namespace' };
  const { group, kind, name, namespace } = ref.data;
  if (group !== '' || kind !== 'ConfigMap') return { ok: false, reason: `spec.parametersRef must be a ConfigMap (group ""), not ${group === '' ? '' : `${group}/`}${kind}` };
  if (namespace !== controlNamespace) {
    return { ok: false, reason: `spec.parametersRef must name a ConfigMap in the control plane's namespace ${controlNamespace}, not ${namespace ?? '(none)'}` };
  }
  const cm = asKind(source.get({ kind: 'ConfigMap', namespace, name }), 'ConfigMap');
  if (cm === undefined) return { ok: false, reason: `ConfigMap ${namespace}/${name} (spec.parametersRef) not found` };
  const parsed = parseData(cm.data ?? {});
  if (typeof parsed === 'string') return { ok: false, reason: `ConfigMap ${namespace}/${name}: ${parsed}` };
  return { ok: true, parameters: parsed, from: `${namespace}/${name}` };
}

/** The parameters in a ConfigMap's data, or why they cannot be used. */
export function parseData(data: Readonly<Record<string, string>>): WaypointParameters | string {
  const out: Record<string, unknown> = {};
  for (const key of PLAIN_KEYS) {
    const v = data[key];
    if (v === undefined || v === '') continue;
    if (key === 'replicas') {
      if (!/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 100) return `data.replicas must be an integer from 1 to 100, not ${JSON.stringify(v)}`;
      out.replicas = Number(v);
    } else if (key === 'imagePullPolicy' && !['Always', 'IfNotPresent', 'Never'].includes(v)) {
      return `data.imagePullPolicy must be Always, IfNotPresent or Never, not ${JSON.stringify(v)}`;
    } else out[key] = v;
  }
  for (const [key, schema] of Object.entries(JSON_KEYS)) {
    const v = data[key];
    if (v === undefined || v === '' || v === 'null') continue;
    let json: unknown;
    try {
      json = JSON.parse(v);
    } catch {
      return `data[${key}] is not JSON`;
    }
    const r = schema.safeParse(json);
    if (!r.success) return `data[${key}]: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
    out[key.slice(0, -'.json'.length)] = r.data;
  }
  return out; // each key checked above
}
