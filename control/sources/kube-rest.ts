import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { WeftError } from '../../lib/errors/index.js';

export interface KubeResponse<T> {
  readonly status: number;
  readonly body: T | undefined;
}

export interface KubeRequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Default `application/json`; patches name their patch type. */
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/** The Kubernetes `Status` object an API server answers errors with. */
export interface KubeStatus {
  readonly kind?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * Raw JSON requests to the API server with the credentials and TLS settings of a KubeConfig (the same
 * agent and headers `@kubernetes/client-node` itself uses). weft reads lists raw rather than through the
 * generated model classes so that objects reach validation exactly as the server sent them (the model
 * classes turn timestamps into Dates and drop fields they do not know, e.g. on CRDs).
 */
export class KubeRest {
  private readonly server: URL;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'the kubeconfig has no current cluster' });
    this.server = new URL(cluster.server);
  }

  async request<T>(method: string, path: string, options: KubeRequestOptions = {}): Promise<KubeResponse<T>> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers = { ...(opts.headers as Record<string, string>) };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const mod = url.protocol === 'https:' ? https : http;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return await new Promise<KubeResponse<T>>((resolve, reject) => {
      const req = mod.request(url, { ...opts, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: T | undefined;
          try {
            body = text === '' ? undefined : (JSON.parse(text) as T);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new WeftError('ERR_WEFT_CORE_TIMEOUT', { what: `Kubernetes API ${method} ${path}`, ms: timeoutMs })));
      req.on('error', (err) =>
        reject(
          err instanceof WeftError
            ? err
            : new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method, path, status: 'no response', reason: err.message }, { cause: err }),
        ),
      );
      req.end(payload);
    });
  }

  /** Like `request` but throws a WeftError for any status outside 2xx (except those in `allow`). */
  async expect<T>(method: string, path: string, options: KubeRequestOptions & { allow?: readonly number[] } = {}): Promise<KubeResponse<T>> {
    const res = await this.request<T>(method, path, options);
    if ((res.status >= 200 && res.status < 300) || options.allow?.includes(res.status) === true) return res;
    const status = res.body as KubeStatus | undefined;
    throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', {
      method,
      path,
      status: res.status,
      reason: status?.message ?? status?.reason ?? 'no message',
    });
  }
}
