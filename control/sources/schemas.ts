import { z } from 'zod';
import type { KubeObject, ObjectKind, ObjectRef } from './source.js';
import { AuthzSourceSchema } from '../../lib/model/policy.js';
import { ConditionSchema, dnsLabel, dnsSubdomain, LabelSelectorSchema, ObjectMetaSchema, objectSchema, port, stringMap } from './schema-parts.js';
import { GatewayClassSchema, GatewaySchema, GRPCRouteSchema, HTTPRouteSchema, ReferenceGrantSchema } from './gateway-schemas.js';

export * from './schema-parts.js';
export * from './gateway-schemas.js';

/**
 * Per-kind validation of the cluster objects weft reads (issue 6, "Manifests are validated into typed
 * resources"). Each schema checks the fields weft uses and passes every other field through untouched
 * (`looseObject`), so an object written by a newer Kubernetes or Gateway API version still validates.
 * Field names follow the upstream Go types exactly: Gateway API v1 (`apis/v1/httproute_types.go`,
 * `grpcroute_types.go`, `gateway_types.go`, `gatewayclass_types.go`, `shared_types.go`) and the
 * Kubernetes core/apps/discovery v1 types. AuthorizationPolicy follows Istio's shape.
 */

// ---------------------------------------------------------------------------------------------------
// Kubernetes core, apps, discovery

export const NamespaceSchema = objectSchema(z.literal('v1'), 'Namespace', z.looseObject({}).optional(), z.looseObject({}).optional());

export const ContainerPortSchema = z.looseObject({
  name: z.string().optional(),
  containerPort: port,
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});
export const ContainerSchema = z.looseObject({
  name: z.string().min(1),
  image: z.string().optional(),
  args: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(ContainerPortSchema).optional(),
});
export const PodSpecSchema = z.looseObject({
  nodeName: z.string().optional(),
  serviceAccountName: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  containers: z.array(ContainerSchema).optional(),
});
export const PodStatusSchema = z.looseObject({
  phase: z.string().optional(),
  podIP: z.string().optional(),
  podIPs: z.array(z.looseObject({ ip: z.string() })).optional(),
  hostIP: z.string().optional(),
  conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional(),
});
export const PodSchema = objectSchema(z.literal('v1'), 'Pod', PodSpecSchema.optional(), PodStatusSchema.optional());
export type PodObject = z.infer<typeof PodSchema>;

export const ServicePortSchema = z.looseObject({
  name: z.string().optional(),
  port,
  targetPort: z.union([z.number().int().min(1).max(65535), z.string().min(1)]).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().optional(),
  nodePort: z.number().int().optional(),
});
export const ServiceSpecSchema = z.looseObject({
  type: z.string().optional(),
  selector: stringMap.optional(),
  clusterIP: z.string().optional(),
  clusterIPs: z.array(z.string()).optional(),
  ports: z.array(ServicePortSchema).optional(),
});
export const ServiceSchema = objectSchema(z.literal('v1'), 'Service', ServiceSpecSchema.optional(), z.looseObject({}).optional());
export type ServiceObject = z.infer<typeof ServiceSchema>;

export const EndpointSchema = z.looseObject({
  addresses: z.array(z.string()).min(1),
  conditions: z
    .looseObject({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() })
    .optional(),
  nodeName: z.string().optional(),
  targetRef: z
    .looseObject({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional(), uid: z.string().optional() })
    .optional(),
});
export const EndpointSliceSchema = z.looseObject({
  apiVersion: z.literal('discovery.k8s.io/v1'),
  kind: z.literal('EndpointSlice'),
  metadata: ObjectMetaSchema,
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
  endpoints: z.array(EndpointSchema).nullish(),
  ports: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        port: z.number().int().min(1).max(65535).optional(),
        protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
        appProtocol: z.string().optional(),
      }),
    )
    .nullish(),
});

export const ServiceAccountSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ServiceAccount'),
  metadata: ObjectMetaSchema,
});

export const DeploymentSpecSchema = z.looseObject({
  replicas: z.number().int().min(0).optional(),
  selector: LabelSelectorSchema,
  template: z.looseObject({
    metadata: z.looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
    spec: PodSpecSchema,
  }),
});
export const DeploymentSchema = objectSchema(z.literal('apps/v1'), 'Deployment', DeploymentSpecSchema, z.looseObject({}).optional());

/** Only the waypoint controller writes these (one per waypoint); nothing reads their fields. */
export const PodDisruptionBudgetSchema = objectSchema(z.literal('policy/v1'), 'PodDisruptionBudget', z.looseObject({}), z.looseObject({}).optional());

/**
 * Read for the waypoint GatewayClass's parameters only (control/waypoints/parameters.ts), and in
 * Kubernetes mode watched only in the control plane's namespace. `data` is validated by its reader.
 */
export const ConfigMapSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: ObjectMetaSchema,
  data: stringMap.optional(),
});

// ---------------------------------------------------------------------------------------------------
// AuthorizationPolicy (security.weft.dev/v1alpha1, Istio's shape)

// Match fields weft does not implement (Istio's `when`, `requestPrincipals`, `hosts`, `remoteIpBlocks`, ...)
// pass validation: rejecting the policy would leave a DENY unenforced (fail open). The compiler enforces
// them the way Istio does for unsupported conditions (control/discovery/authz-unsupported.ts): a DENY rule
// as if the unsupported condition matched, an ALLOW rule never; the status warns (FullySupported=False).
// The same fields as the compiled form (lib/model/policy.ts), kept loose here for the reason above.
export const AuthzSourceSpecSchema = AuthzSourceSchema.loose();
/** Ports are strings in Istio's API; numbers are accepted too (YAML authors write both). */
const authzPort = z.union([port, z.string().regex(/^[0-9]{1,5}$/, 'must be a port number')]);
export const AuthzOperationSpecSchema = z.looseObject({
  ports: z.array(authzPort).optional(),
  notPorts: z.array(authzPort).optional(),
  methods: z.array(z.string()).optional(),
  notMethods: z.array(z.string()).optional(),
  paths: z.array(z.string()).optional(),
  notPaths: z.array(z.string()).optional(),
});
export const AuthzRuleSpecSchema = z.looseObject({
  from: z.array(z.looseObject({ source: AuthzSourceSpecSchema })).optional(),
  to: z.array(z.looseObject({ operation: AuthzOperationSpecSchema })).optional(),
});
export type AuthzRuleSpec = z.infer<typeof AuthzRuleSpecSchema>;
export const PolicyTargetReferenceSchema = z.looseObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
});
export const AuthorizationPolicySpecSchema = z.looseObject({
  targetRefs: z.array(PolicyTargetReferenceSchema).optional(),
  selector: z.looseObject({ matchLabels: stringMap.optional() }).optional(),
  action: z.enum(['ALLOW', 'DENY']).optional(), // default ALLOW, as in Istio
  rules: z.array(AuthzRuleSpecSchema).optional(),
});
export const AuthorizationPolicyStatusSchema = z.looseObject({ conditions: z.array(ConditionSchema).optional() });
export type AuthorizationPolicyStatus = z.infer<typeof AuthorizationPolicyStatusSchema>;
export const AuthorizationPolicySchema = objectSchema(
  z.literal('security.weft.dev/v1alpha1'),
  'AuthorizationPolicy',
  AuthorizationPolicySpecSchema,
  AuthorizationPolicyStatusSchema.optional(),
);
export type AuthorizationPolicyObject = z.infer<typeof AuthorizationPolicySchema>;

// ---------------------------------------------------------------------------------------------------
// Types per kind, and the table of kinds

/** The schema of every kind weft reads; the typed object of each kind is what its schema infers. */
const SCHEMAS = {
  Namespace: NamespaceSchema,
  Pod: PodSchema,
  Service: ServiceSchema,
  EndpointSlice: EndpointSliceSchema,
  ServiceAccount: ServiceAccountSchema,
  Deployment: DeploymentSchema,
  PodDisruptionBudget: PodDisruptionBudgetSchema,
  ConfigMap: ConfigMapSchema,
  Gateway: GatewaySchema,
  GatewayClass: GatewayClassSchema,
  HTTPRoute: HTTPRouteSchema,
  GRPCRoute: GRPCRouteSchema,
  ReferenceGrant: ReferenceGrantSchema,
  AuthorizationPolicy: AuthorizationPolicySchema,
} as const satisfies { readonly [K in ObjectKind]: z.ZodType };

export type ObjectByKind = { [K in ObjectKind]: z.infer<(typeof SCHEMAS)[K]> };
export const schemaByObjectKind: { readonly [K in ObjectKind]: z.ZodType<ObjectByKind[K]> } = SCHEMAS;

/** Where each kind lives in the Kubernetes API (for the informers, the API double and the CLI). */
export interface KindInfo {
  readonly kind: ObjectKind;
  /** `""` for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name in URLs. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** The apiVersion weft writes (`v1`, `apps/v1`, `gateway.networking.k8s.io/v1`, …). */
  readonly apiVersion: string;
  /** Whether the kind has a status weft writes through the `/status` subresource. */
  readonly hasStatus: boolean;
}

function info(kind: ObjectKind, group: string, version: string, plural: string, namespaced: boolean, hasStatus = false): KindInfo {
  return { kind, group, version, plural, namespaced, apiVersion: group === '' ? version : `${group}/${version}`, hasStatus };
}

export const KIND_INFO: { readonly [K in ObjectKind]: KindInfo } = {
  Namespace: info('Namespace', '', 'v1', 'namespaces', false),
  Pod: info('Pod', '', 'v1', 'pods', true),
  Service: info('Service', '', 'v1', 'services', true),
  EndpointSlice: info('EndpointSlice', 'discovery.k8s.io', 'v1', 'endpointslices', true),
  ServiceAccount: info('ServiceAccount', '', 'v1', 'serviceaccounts', true),
  Deployment: info('Deployment', 'apps', 'v1', 'deployments', true),
  PodDisruptionBudget: info('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets', true),
  ConfigMap: info('ConfigMap', '', 'v1', 'configmaps', true),
  Gateway: info('Gateway', 'gateway.networking.k8s.io', 'v1', 'gateways', true, true),
  GatewayClass: info('GatewayClass', 'gateway.networking.k8s.io', 'v1', 'gatewayclasses', false, true),
  HTTPRoute: info('HTTPRoute', 'gateway.networking.k8s.io', 'v1', 'httproutes', true, true),
  GRPCRoute: info('GRPCRoute', 'gateway.networking.k8s.io', 'v1', 'grpcroutes', true, true),
  ReferenceGrant: info('ReferenceGrant', 'gateway.networking.k8s.io', 'v1beta1', 'referencegrants', true),
  AuthorizationPolicy: info('AuthorizationPolicy', 'security.weft.dev', 'v1alpha1', 'authorizationpolicies', true, true),
};

export const OBJECT_KINDS: readonly ObjectKind[] = Object.keys(KIND_INFO) as ObjectKind[];

export function isObjectKind(kind: unknown): kind is ObjectKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(KIND_INFO, kind);
}

// ---------------------------------------------------------------------------------------------------
// Validation entry point and typed accessors

export type ValidationResult =
  | { readonly ok: true; readonly object: KubeObject }
  | { readonly ok: false; readonly ref: Partial<ObjectRef>; readonly reason: string };

/** Best-effort ref of a raw object, for reporting one that fails validation. */
export function refOfRaw(raw: unknown): Partial<ObjectRef> {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const ref: Partial<ObjectRef> = {};
  if (isObjectKind(r.kind)) ref.kind = r.kind;
  const meta = typeof r.metadata === 'object' && r.metadata !== null ? r.metadata : {};
  if (typeof meta.name === 'string') ref.name = meta.name;
  if (typeof meta.namespace === 'string') ref.namespace = meta.namespace;
  return ref;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Validates one raw object (as parsed from YAML/JSON or received from the API server). Kinds weft does
 * not read are refused with a reason; namespaced kinds must carry a namespace unless `defaultNamespace`
 * is given. Never throws.
 */
export function validateObject(raw: unknown, options: { defaultNamespace?: string } = {}): ValidationResult {
  const ref = refOfRaw(raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, ref, reason: 'not an object' };
  const kind = (raw as { kind?: unknown }).kind;
  if (!isObjectKind(kind)) {
    return { ok: false, ref, reason: `unsupported kind ${JSON.stringify(kind ?? null)}` };
  }
  const parsed = schemaByObjectKind[kind].safeParse(raw);
  if (!parsed.success) return { ok: false, ref, reason: describeIssues(parsed.error) };
  const object = parsed.data as unknown as KubeObject;
  const kindInfo = KIND_INFO[kind];
  if (kindInfo.namespaced && object.metadata.namespace === undefined) {
    if (options.defaultNamespace === undefined) return { ok: false, ref, reason: 'metadata.namespace: required for a namespaced kind' };
    object.metadata.namespace = options.defaultNamespace;
  }
  if (!kindInfo.namespaced && object.metadata.namespace !== undefined) delete object.metadata.namespace;
  return { ok: true, object };
}

/**
 * Validates a status subresource on its own, against the status schema of its kind (kinds without one take
 * any status). Equivalent to validating the object with this status, without copying the object: the
 * directory source merges status files into objects it validated already.
 */
export function validateStatus(kind: ObjectKind, status: unknown): { readonly ok: true; readonly status: unknown } | { readonly ok: false; readonly reason: string } {
  const shape = (schemaByObjectKind[kind] as unknown as { shape?: Record<string, z.ZodType | undefined> }).shape;
  const schema = shape?.status;
  if (schema === undefined) return { ok: true, status };
  const parsed = schema.safeParse(status);
  if (parsed.success) return { ok: true, status: parsed.data };
  return { ok: false, reason: describeIssues(parsed.error).replace(/^|(?<=; )/g, 'status.') };
}

/** The typed view of a validated object of a known kind (undefined when the kind differs). */
export function asKind<K extends ObjectKind>(object: KubeObject | undefined, kind: K): ObjectByKind[K] | undefined {
  return object !== undefined && object.kind === kind ? (object as unknown as ObjectByKind[K]) : undefined;
}

/** All objects of one kind as their typed view (`source.list(kind)` narrowed). */
export function listOf<K extends ObjectKind>(source: { list(kind: ObjectKind): readonly KubeObject[] }, kind: K): readonly ObjectByKind[K][] {
  return source.list(kind) as unknown as readonly ObjectByKind[K][];
}

/** `namespace/name` (or `name` for cluster-scoped kinds): the key objects are stored under. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function refOf(object: KubeObject): ObjectRef {
  return object.metadata.namespace === undefined
    ? { kind: object.kind, name: object.metadata.name }
    : { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
