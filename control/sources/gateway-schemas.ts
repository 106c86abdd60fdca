import { z } from 'zod';
import { ConditionSchema, dnsLabel, dnsSubdomain, GatewayDurationSchema, LabelSelectorSchema, objectSchema, port, stringMap } from './schema-parts.js';

// Gateway API objects as weft reads them; see schemas.ts for the rules every schema follows.

// ---------------------------------------------------------------------------------------------------
// Gateway API v1 (gateway.networking.k8s.io/v1)

const gatewayApiVersion = z.enum(['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1alpha2']);
const headerName = z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be an HTTP header name');

/** ParentReference (shared_types.go): group default `gateway.networking.k8s.io`, kind default `Gateway`. */
export const ParentReferenceSchema = z.looseObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  namespace: dnsLabel.optional(),
  name: dnsSubdomain,
  sectionName: z.string().optional(),
  port: port.optional(),
});
export type ParentReference = z.infer<typeof ParentReferenceSchema>;

/** BackendRef (httproute_types.go / shared_types.go): group default `""`, kind default `Service`, weight default 1. */
export const BackendObjectReferenceSchema = z.looseObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
  port: port.optional(),
});

export const HTTPHeaderSchema = z.looseObject({ name: headerName, value: z.string() });
export const HTTPHeaderFilterSchema = z.looseObject({
  set: z.array(HTTPHeaderSchema).optional(),
  add: z.array(HTTPHeaderSchema).optional(),
  remove: z.array(z.string()).optional(),
});
export const HTTPPathModifierSchema = z.looseObject({
  type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
  replaceFullPath: z.string().optional(),
  replacePrefixMatch: z.string().optional(),
});
export const HTTPRequestRedirectFilterSchema = z.looseObject({
  scheme: z.enum(['http', 'https']).optional(),
  hostname: z.string().optional(),
  path: HTTPPathModifierSchema.optional(),
  port: port.optional(),
  statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).optional(),
});
export const HTTPURLRewriteFilterSchema = z.looseObject({
  hostname: z.string().optional(),
  path: HTTPPathModifierSchema.optional(),
});
export const HTTPRequestMirrorFilterSchema = z.looseObject({
  backendRef: BackendObjectReferenceSchema,
  percent: z.number().int().min(0).max(100).optional(),
  fraction: z.looseObject({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).optional() }).optional(),
});
export const LocalObjectReferenceSchema = z.looseObject({ group: z.string(), kind: z.string().min(1), name: z.string().min(1) });

export const HTTPRouteFilterSchema = z.looseObject({
  type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS']),
  requestHeaderModifier: HTTPHeaderFilterSchema.optional(),
  responseHeaderModifier: HTTPHeaderFilterSchema.optional(),
  requestMirror: HTTPRequestMirrorFilterSchema.optional(),
  requestRedirect: HTTPRequestRedirectFilterSchema.optional(),
  urlRewrite: HTTPURLRewriteFilterSchema.optional(),
  extensionRef: LocalObjectReferenceSchema.optional(),
});
export type HTTPRouteFilter = z.infer<typeof HTTPRouteFilterSchema>;

export const HTTPBackendRefSchema = BackendObjectReferenceSchema.extend({
  weight: z.number().int().min(0).max(1_000_000).optional(),
  filters: z.array(HTTPRouteFilterSchema).optional(),
});
export type HTTPBackendRef = z.infer<typeof HTTPBackendRefSchema>;

export const HTTPPathMatchSchema = z.looseObject({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).optional(), // default PathPrefix
  value: z.string().max(1024).optional(), // default "/"
});
export const HTTPHeaderMatchSchema = z.looseObject({
  type: z.enum(['Exact', 'RegularExpression']).optional(), // default Exact
  name: headerName,
  value: z.string().max(4096),
});
export const HTTPQueryParamMatchSchema = z.looseObject({
  type: z.enum(['Exact', 'RegularExpression']).optional(),
  name: z.string().min(1).max(256),
  value: z.string().max(1024),
});
export const HTTPMethodSchema = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
export const HTTPRouteMatchSchema = z.looseObject({
  path: HTTPPathMatchSchema.optional(),
  headers: z.array(HTTPHeaderMatchSchema).optional(),
  queryParams: z.array(HTTPQueryParamMatchSchema).optional(),
  method: HTTPMethodSchema.optional(),
});

/** HTTPRouteTimeouts: `request` (whole request incl. retries) and `backendRequest` (one attempt). */
export const HTTPRouteTimeoutsSchema = z.looseObject({
  request: GatewayDurationSchema.optional(),
  backendRequest: GatewayDurationSchema.optional(),
});
/** HTTPRouteRetry (GEP-1731; in v1.7.0's standard channel): `codes` are 400–599, `attempts`, `backoff` duration. */
export const HTTPRouteRetrySchema = z.looseObject({
  codes: z.array(z.number().int().min(400).max(599)).optional(),
  attempts: z.number().int().min(0).optional(),
  backoff: GatewayDurationSchema.optional(),
});

export const HTTPRouteRuleSchema = z.looseObject({
  name: z.string().optional(),
  matches: z.array(HTTPRouteMatchSchema).max(64).optional(),
  filters: z.array(HTTPRouteFilterSchema).max(16).optional(),
  backendRefs: z.array(HTTPBackendRefSchema).optional(),
  timeouts: HTTPRouteTimeoutsSchema.optional(),
  retry: HTTPRouteRetrySchema.optional(),
});

export const RouteParentStatusSchema = z.looseObject({
  parentRef: ParentReferenceSchema,
  controllerName: z.string(),
  conditions: z.array(ConditionSchema).optional(),
});
export type RouteParentStatus = z.infer<typeof RouteParentStatusSchema>;
export const RouteStatusSchema = z.looseObject({ parents: z.array(RouteParentStatusSchema).optional() });
export type RouteStatus = z.infer<typeof RouteStatusSchema>;

export const HTTPRouteSpecSchema = z.looseObject({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  hostnames: z.array(z.string()).optional(),
  rules: z.array(HTTPRouteRuleSchema).max(16).optional(), // default: one rule matching PathPrefix "/"
});
export const HTTPRouteSchema = objectSchema(gatewayApiVersion, 'HTTPRoute', HTTPRouteSpecSchema, RouteStatusSchema.optional());
export type HTTPRouteObject = z.infer<typeof HTTPRouteSchema>;

export const GRPCMethodMatchSchema = z.looseObject({
  type: z.enum(['Exact', 'RegularExpression']).optional(), // default Exact
  service: z.string().optional(),
  method: z.string().optional(),
});
export const GRPCHeaderMatchSchema = z.looseObject({
  type: z.enum(['Exact', 'RegularExpression']).optional(),
  name: headerName,
  value: z.string().max(4096),
});
export const GRPCRouteMatchSchema = z.looseObject({
  method: GRPCMethodMatchSchema.optional(),
  headers: z.array(GRPCHeaderMatchSchema).optional(),
});
export const GRPCRouteFilterSchema = z.looseObject({
  type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']),
  requestHeaderModifier: HTTPHeaderFilterSchema.optional(),
  responseHeaderModifier: HTTPHeaderFilterSchema.optional(),
  requestMirror: HTTPRequestMirrorFilterSchema.optional(),
  extensionRef: LocalObjectReferenceSchema.optional(),
});
export const GRPCBackendRefSchema = BackendObjectReferenceSchema.extend({
  weight: z.number().int().min(0).max(1_000_000).optional(),
  filters: z.array(GRPCRouteFilterSchema).optional(),
});
export const GRPCRouteRuleSchema = z.looseObject({
  name: z.string().optional(),
  matches: z.array(GRPCRouteMatchSchema).max(64).optional(),
  filters: z.array(GRPCRouteFilterSchema).max(16).optional(),
  backendRefs: z.array(GRPCBackendRefSchema).optional(),
});
export const GRPCRouteSpecSchema = z.looseObject({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  hostnames: z.array(z.string()).optional(),
  rules: z.array(GRPCRouteRuleSchema).max(16).optional(),
});
export const GRPCRouteSchema = objectSchema(gatewayApiVersion, 'GRPCRoute', GRPCRouteSpecSchema, RouteStatusSchema.optional());
export type GRPCRouteObject = z.infer<typeof GRPCRouteSchema>;

/**
 * ReferenceGrant (gateway.networking.k8s.io/v1beta1, referencegrant_types.go): lives in the namespace of
 * the referent and lets objects of `from` (group, kind, namespace) refer to objects of `to` (group, kind,
 * optional name: all of that kind when omitted) in its own namespace.
 */
export const ReferenceGrantFromSchema = z.looseObject({ group: z.string(), kind: z.string().min(1), namespace: z.string().min(1) });
export const ReferenceGrantToSchema = z.looseObject({ group: z.string(), kind: z.string().min(1), name: z.string().min(1).optional() });
export const ReferenceGrantSpecSchema = z.looseObject({
  from: z.array(ReferenceGrantFromSchema).min(1).max(16),
  to: z.array(ReferenceGrantToSchema).min(1).max(16),
});
export const ReferenceGrantSchema = objectSchema(
  z.enum(['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1']),
  'ReferenceGrant',
  ReferenceGrantSpecSchema,
  z.looseObject({}).optional(),
);

export const ListenerSchema = z.looseObject({
  name: z.string().min(1),
  hostname: z.string().optional(),
  port,
  protocol: z.string().min(1), // HTTP, HTTPS, TLS, TCP, UDP, or an implementation-specific one like HBONE
  tls: z.looseObject({}).optional(),
  allowedRoutes: z
    .looseObject({
      namespaces: z.looseObject({ from: z.enum(['All', 'Same', 'Selector']).optional(), selector: LabelSelectorSchema.optional() }).optional(),
      kinds: z.array(z.looseObject({ group: z.string().optional(), kind: z.string().min(1) })).optional(),
    })
    .optional(),
});
export const GatewayAddressSchema = z.looseObject({ type: z.string().optional(), value: z.string().min(1) });
export const GatewaySpecSchema = z.looseObject({
  gatewayClassName: z.string().min(1),
  listeners: z.array(ListenerSchema).min(1).max(64),
  addresses: z.array(GatewayAddressSchema).optional(),
  infrastructure: z.looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
});
export const ListenerStatusSchema = z.looseObject({
  name: z.string(),
  supportedKinds: z.array(z.looseObject({ group: z.string().optional(), kind: z.string() })).optional(),
  attachedRoutes: z.number().int().min(0),
  conditions: z.array(ConditionSchema).optional(),
});
export const GatewayStatusSchema = z.looseObject({
  addresses: z.array(GatewayAddressSchema).optional(),
  conditions: z.array(ConditionSchema).optional(),
  listeners: z.array(ListenerStatusSchema).optional(),
});
export type GatewayStatus = z.infer<typeof GatewayStatusSchema>;
export const GatewaySchema = objectSchema(gatewayApiVersion, 'Gateway', GatewaySpecSchema, GatewayStatusSchema.optional());
export type GatewayObject = z.infer<typeof GatewaySchema>;

export const GatewayClassSpecSchema = z.looseObject({
  controllerName: z.string().min(1),
  description: z.string().optional(),
  parametersRef: z.looseObject({}).optional(),
});
export const GatewayClassStatusSchema = z.looseObject({ conditions: z.array(ConditionSchema).optional() });
export type GatewayClassStatus = z.infer<typeof GatewayClassStatusSchema>;
export const GatewayClassSchema = objectSchema(gatewayApiVersion, 'GatewayClass', GatewayClassSpecSchema, GatewayClassStatusSchema.optional());
export type GatewayClassObject = z.infer<typeof GatewayClassSchema>;
