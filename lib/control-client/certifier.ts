import { readFile } from 'node:fs/promises';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { WeftError } from '../errors/index.js';
import type { Certifier, SpiffeId } from '../identity/index.js';
import { IdentityServiceClient, type CertifyResponse } from '../../api/gen/weft/v1/identity.js';
import { controlChannelOptions, controlCredentials, type ControlConnectionOptions } from './channel.js';

// The data planes' Certifier (lib/identity): IdentityService.Certify with the bearer token read from
// --token-file on every call, since the kubelet (or the lab) rotates that file under us.

export interface ControlCertifierOptions extends ControlConnectionOptions {
  tokenFile: string;
  /** Deadline per call (default 10 s). */
  timeoutMs?: number;
}

export class ControlCertifier implements Certifier {
  private readonly client: IdentityServiceClient;

  constructor(private readonly options: ControlCertifierOptions) {
    this.client = new IdentityServiceClient(options.address, controlCredentials(options), controlChannelOptions(options));
  }

  async certify(csrPem: string, identity: SpiffeId, lifetimeSeconds: number): Promise<string[]> {
    let token: string;
    try {
      token = (await readFile(this.options.tokenFile, 'utf8')).trim();
    } catch (err) {
      throw new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: `cannot read token file ${this.options.tokenFile}: ${(err as Error).message}` }, { cause: err });
    }
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const deadline = new Date(Date.now() + (this.options.timeoutMs ?? 10_000));
    const res = await new Promise<CertifyResponse>((resolve, reject) => {
      this.client.certify(
        { csrPem, requestedIdentity: identity.toString(), lifetimeS: Math.max(0, Math.floor(lifetimeSeconds)) },
        md,
        { deadline },
        (err: ServiceError | null, r?: CertifyResponse) => (err ? reject(err) : resolve(r!)),
      );
    }).catch((err: ServiceError) => {
      const serverCode = err.metadata?.get('weft-error-code')[0];
      // RESOURCE_EXHAUSTED (ERR_WEFT_CONTROL_RATE_LIMITED) says when to come back; the CertificateManager waits at least that.
      const retryAfter = Number(err.metadata?.get('weft-retry-after-ms')[0]);
      const reason = `${GrpcStatus[err.code] ?? err.code}: ${err.details || err.message}`;
      throw new WeftError(
        err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED ? 'ERR_WEFT_CONTROL_UNAVAILABLE' : 'ERR_WEFT_CERT_ISSUE_FAILED',
        {
          identity: identity.toString(),
          address: this.options.address,
          reason,
          serverCode: typeof serverCode === 'string' ? serverCode : undefined,
          retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
        },
        { cause: err },
      );
    });
    if (res.certChainPem.length === 0) throw new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: 'empty chain' });
    return res.certChainPem;
  }

  close(): void {
    this.client.close();
  }
}
