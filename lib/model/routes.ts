import { z } from 'zod';

// HTTPRoute / GRPCRoute as the Gateway API spec defines them (apis/v1/httproute_types.go, grpcroute_types.go),
// normalised: defaults filled in, durations in ms (null = disabled, the spec's "0s"), parentRefs resolved to
// Services. A waypoint computes precedence itself across all routes attached to the same Service port.

const HeaderMatchSchema = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string(),
  value: z.string(),
});

export const HttpRouteMatchSchema = z.object({
  path: z
    .object({ type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'), value: z.string().default('/') })
    .default({ type: 'PathPrefix', value: '/' }),
  headers: z.array(HeaderMatchSchema).default([]),
  queryParams: z.array(HeaderMatchSchema).default([]),
  method: z.string().optional(),
});
export type HttpRouteMatch = z.infer<typeof HttpRouteMatchSchema>;

export const GrpcRouteMatchSchema = z.object({
  method: z
    .object({ type: z.enum(['Exact', 'RegularExpression']).default('Exact'), service: z.string().optional(), method: z.string().optional() })
    .optional(),
  headers: z.array(HeaderMatchSchema).default([]),
});
export type GrpcRouteMatch = z.infer<typeof GrpcRouteMatchSchema>;

const HeaderModifierSchema = z.object({
  set: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  add: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  remove: z.array(z.string()).default([]),
});

const PathModifierSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ReplaceFullPath'), replaceFullPath: z.string() }),
  z.object({ type: z.literal('ReplacePrefixMatch'), replacePrefixMatch: z.string() }),
]);

/** Where a backendRef points (a RequestMirror's target has just this). */
export const BackendTargetSchema = z.object({
  /** Resolved Service; absent when the reference could not be resolved (that share answers 500). */
  service: z.object({ namespace: z.string(), name: z.string() }).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  weight: z.number().int().min(0).default(1),
  /** Why the reference did not resolve, for status and logs. */
  invalidReason: z.string().optional(),
});
export type BackendTarget = z.infer<typeof BackendTargetSchema>;

export const HttpFilterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: HeaderModifierSchema }),
  z.object({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: HeaderModifierSchema }),
  z.object({
    type: z.literal('RequestRedirect'),
    requestRedirect: z.object({
      scheme: z.enum(['http', 'https']).optional(),
      hostname: z.string().optional(),
      path: PathModifierSchema.optional(),
      port: z.number().int().optional(),
      statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
    }),
  }),
  z.object({
    type: z.literal('URLRewrite'),
    urlRewrite: z.object({ hostname: z.string().optional(), path: PathModifierSchema.optional() }),
  }),
  z.object({
    type: z.literal('RequestMirror'),
    requestMirror: z.object({ backendRef: BackendTargetSchema, percent: z.number().min(0).max(100).optional() }),
  }),
]);
export type HttpFilter = z.infer<typeof HttpFilterSchema>;

export const BackendRefSchema = BackendTargetSchema.extend({
  /** The backendRef's own filters, applied after the rule's only to requests sent to it; absent when none. */
  filters: z.array(HttpFilterSchema).optional(),
});
export type BackendRef = z.infer<typeof BackendRefSchema>;

export const RetrySchema = z.object({
  /** HTTP status codes that trigger a retry (HTTPRoute `retry.codes`). */
  codes: z.array(z.number().int()).default([]),
  /** gRPC status names or numbers that trigger a retry (GRPCRoute). */
  grpcCodes: z.array(z.number().int()).default([]),
  /** Maximum retries after the first attempt (spec `retry.attempts`). */
  attempts: z.number().int().min(0).default(1),
  backoffMs: z.number().int().min(0).optional(),
});
export type Retry = z.infer<typeof RetrySchema>;

export const HttpRouteRuleSchema = z.object({
  name: z.string().optional(),
  matches: z.array(z.union([HttpRouteMatchSchema, GrpcRouteMatchSchema])).default([]),
  filters: z.array(HttpFilterSchema).default([]),
  backendRefs: z.array(BackendRefSchema).default([]),
  timeouts: z
    .object({ requestMs: z.number().int().min(0).nullable().optional(), backendRequestMs: z.number().int().min(0).nullable().optional() })
    .optional(),
  retry: RetrySchema.optional(),
});
export type HttpRouteRule = z.infer<typeof HttpRouteRuleSchema>;

export const RouteSchema = z.object({
  kind: z.enum(['HTTPRoute', 'GRPCRoute']),
  namespace: z.string(),
  name: z.string(),
  /** RFC 3339; ties in precedence go to the oldest route, then by namespace/name. */
  creationTimestamp: z.string().default('1970-01-01T00:00:00Z'),
  /** Services this route attaches to (mesh profile: parentRefs of kind Service). `port` narrows to one port. */
  parents: z.array(z.object({ namespace: z.string(), name: z.string(), port: z.number().int().optional() })),
  hostnames: z.array(z.string()).default([]),
  rules: z.array(HttpRouteRuleSchema).default([]),
});
export type Route = z.infer<typeof RouteSchema>;

/** Everything one waypoint needs to route: the routes attached to the Services bound to it. */
export const RouteTableSchema = z.object({
  /** Gateway namespace/name. */
  namespace: z.string(),
  name: z.string(),
  routes: z.array(RouteSchema).default([]),
});
export type RouteTable = z.infer<typeof RouteTableSchema>;
