import { status as GrpcStatus, Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { WeftError, hasCode, isWeftError } from '../../lib/errors/index.js';
import { SpiffeId, type CertificateAuthority } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import type { CertifyRequest, CertifyResponse, IdentityServiceServer } from '../../api/gen/weft/v1/identity.js';
import type { ClusterSource } from '../sources/source.js';
import { PodServiceAccountIndex, describeCaller, roleOf, type CallerRole } from './callers.js';
import type { CallerIdentity, TokenVerifier } from './tokens.js';
import { CallerRateLimiter, type CallerRateLimitOptions } from './certify-rate-limit.js';
import { DEFAULT_CERTIFY_BURST, DEFAULT_CERTIFY_RATE_PER_SECOND } from '../config.js';

// IdentityService.Certify (issue 6, "Identity controller"): authenticate the bearer token, authorize the
// requested identity against cluster state, then let the CA check and sign the CSR. Every refusal is a
// WeftError carried as its gRPC status with the reason in the details; none reaches other calls.
// Each verified caller has a token bucket (certify-rate-limit.ts), taken before any CSR work.

export interface CertifyServiceOptions {
  /** The CA to sign with; a function so the process can swap it (CA loaded late or rotated). */
  ca: () => CertificateAuthority | undefined;
  verifier: TokenVerifier;
  source: ClusterSource;
  /** The control plane's namespace (where the node agent's service account lives). */
  controlNamespace: string;
  logger?: Logger;
  registry?: Registry;
  /** Per-caller limit; default DEFAULT_CERTIFY_BURST at once, DEFAULT_CERTIFY_RATE_PER_SECOND sustained. */
  rateLimit?: CallerRateLimitOptions;
}


/** `authorization: Bearer <token>` from call metadata (also used by the discovery service). */
export function bearerToken(metadata: Metadata, method: string): string {
  const v = metadata.get('authorization')[0];
  const m = typeof v === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  if (!m) throw new WeftError('ERR_WEFT_CONTROL_TOKEN_MISSING', { method });
  return m[1];
}

/** Turns any error into a gRPC ServiceError with the WeftError's status and message. */
export function toGrpcError(err: unknown): { code: number; details: string; metadata: Metadata } {
  const md = new Metadata();
  if (isWeftError(err)) {
    md.set('weft-error-code', err.code);
    if (typeof err.params.retryAfterMs === 'number') md.set('weft-retry-after-ms', String(err.params.retryAfterMs));
    return { code: err.grpc ?? GrpcStatus.INTERNAL, details: `${err.code}: ${err.message}`, metadata: md };
  }
  return { code: GrpcStatus.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}`, metadata: md };
}

export class CertifyService {
  private readonly log: Logger;
  private readonly pods: PodServiceAccountIndex;
  private readonly total: Counter<'result'> | undefined;
  private readonly seconds: Histogram | undefined;
  private readonly rateLimited: Counter<'caller_kind'> | undefined;
  private readonly limiter: CallerRateLimiter;

  constructor(private readonly options: CertifyServiceOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'control.certify' });
    this.pods = new PodServiceAccountIndex(options.source);
    this.limiter = new CallerRateLimiter(options.rateLimit ?? { burst: DEFAULT_CERTIFY_BURST, ratePerSecond: DEFAULT_CERTIFY_RATE_PER_SECOND });
    if (options.registry) {
      this.rateLimited = new Counter({
        name: 'weft_control_certify_rate_limited_total',
        help: 'IdentityService.Certify calls refused because the caller exceeded its rate, by caller kind (node-agent, waypoint, other)',
        labelNames: ['caller_kind'],
        registers: [options.registry],
      });
      for (const kind of ['node-agent', 'waypoint', 'other']) this.rateLimited.inc({ caller_kind: kind }, 0);
      this.total = new Counter({
        name: 'weft_control_certify_total',
        help: 'IdentityService.Certify calls by result (issued, or the error code)',
        labelNames: ['result'],
        registers: [options.registry],
      });
      this.seconds = new Histogram({
        name: 'weft_control_certify_duration_seconds',
        help: 'Time to answer IdentityService.Certify',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers: [options.registry],
      });
    }
  }

  /** The grpc-js service implementation. */
  implementation(): IdentityServiceServer {
    return {
      certify: (call: ServerUnaryCall<CertifyRequest, CertifyResponse>, callback: sendUnaryData<CertifyResponse>) => {
        const started = process.hrtime.bigint();
        this.certify(call.request, call.metadata).then(
          (certChainPem) => {
            this.total?.inc({ result: 'issued' });
            this.seconds?.observe(Number(process.hrtime.bigint() - started) / 1e9);
            callback(null, { certChainPem });
          },
          (err: unknown) => {
            this.total?.inc({ result: isWeftError(err) ? err.code : 'ERR_WEFT_CORE_INTERNAL' });
            const e = toGrpcError(err);
            if (e.code === (GrpcStatus.INTERNAL as number)) this.log.error({ err }, 'certify failed');
            // Rate-limit refusals are logged by admit(), once per caller per window, not per call.
            else if (!hasCode(err, 'ERR_WEFT_CONTROL_RATE_LIMITED')) this.log.warn({ code: isWeftError(err) ? err.code : undefined, reason: e.details }, 'certify refused');
            callback(e, null);
          },
        );
      },
    };
  }

  /** Authenticates, authorizes and signs; resolves the chain (leaf first) or throws a WeftError. */
  async certify(request: CertifyRequest, metadata: Metadata): Promise<string[]> {
    const ca = this.options.ca();
    if (!ca) throw new WeftError('ERR_WEFT_CONTROL_NOT_READY', { reason: 'the CA is not loaded yet' });
    const caller = await this.options.verifier.verify(bearerToken(metadata, 'IdentityService.Certify'));
    const role = roleOf(caller, this.options.source, this.options.controlNamespace);
    this.admit(caller, role);
    if (typeof request.csrPem !== 'string' || request.csrPem.length === 0) {
      throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: 'csr_pem is empty' });
    }
    const identity = SpiffeId.parse(request.requestedIdentity);
    this.authorize(caller, role, identity, ca.trustDomain);
    const lifetimeSeconds = request.lifetimeS > 0 ? request.lifetimeS : undefined;
    return (await ca.sign(request.csrPem, { identity, lifetimeSeconds })).certChainPem;
  }

  /**
   * Takes a token from the caller's bucket or throws ERR_WEFT_CONTROL_RATE_LIMITED. The key is the verified
   * caller as authorization sees it: a node agent by its node (its agents share one bucket across a
   * restart), anyone else by service account — never a field of the request. Token verification runs
   * before this and is not limited: without it there is no caller to key on.
   */
  private admit(caller: CallerIdentity, role: CallerRole): void {
    const kind = role.role;
    const key = role.role === 'node-agent' ? `node/${role.node}` : `sa/${caller.namespace}/${caller.serviceAccount}`;
    const decision = this.limiter.take(key);
    if (decision.allowed) return;
    this.rateLimited?.inc({ caller_kind: kind });
    const err = new WeftError('ERR_WEFT_CONTROL_RATE_LIMITED', {
      caller: role.role === 'node-agent' ? `the node agent of ${role.node}` : describeCaller(caller),
      method: 'IdentityService.Certify',
      burst: this.limiter.burst,
      rate: this.limiter.ratePerSecond,
      retryAfterMs: decision.retryAfterMs,
    });
    if (decision.report) {
      this.log.warn({ code: err.code, callerKind: kind, caller: key, refused: decision.report.refused, retryAfterMs: decision.retryAfterMs }, err.message);
    }
    throw err;
  }

  private authorize(caller: CallerIdentity, role: CallerRole, identity: SpiffeId, trustDomain: string): void {
    const deny = (reason: string): WeftError =>
      new WeftError('ERR_WEFT_CONTROL_PERMISSION_DENIED', { caller: describeCaller(caller), identity: identity.toString(), reason });
    if (identity.trustDomain !== trustDomain) throw deny(`the trust domain is ${trustDomain}`);
    switch (role.role) {
      case 'node-agent':
        if (!this.pods.hasServiceAccountOnNode(role.node, identity.namespace, identity.serviceAccount)) {
          throw deny(`no pod on node ${role.node} runs as service account ${identity.namespace}/${identity.serviceAccount}`);
        }
        return;
      case 'waypoint':
        if (identity.namespace !== caller.namespace || identity.serviceAccount !== caller.serviceAccount) {
          throw deny(`the waypoint ${role.namespace}/${role.gateway} may only have its own identity`);
        }
        return;
      default:
        throw deny(role.reason);
    }
  }
}
