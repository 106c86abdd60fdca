import { WeftError } from '../errors/index.js';

// SPIFFE ID spec: trust domain ≤ 255 chars of [a-z0-9.-_], whole ID ≤ 2048 bytes; Kubernetes names:
// namespaces are DNS-1123 labels (≤ 63), ServiceAccount names DNS-1123 subdomains (≤ 253).
const MAX_ID_LENGTH = 2048;
const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A workload identity `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`; immutable. */
export class SpiffeId {
  private readonly uri: string;

  private constructor(
    readonly trustDomain: string,
    readonly namespace: string,
    readonly serviceAccount: string,
  ) {
    this.uri = `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  }

  static of(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
    const shown = `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
    if (!TRUST_DOMAIN.test(trustDomain) || trustDomain.includes('..'))
      throw invalid(shown, 'trust domain must be lowercase letters, digits, dots, dashes or underscores');
    if (!DNS_LABEL.test(namespace)) throw invalid(shown, 'namespace must be a DNS label (a-z, 0-9, -, at most 63)');
    if (!DNS_SUBDOMAIN.test(serviceAccount))
      throw invalid(shown, 'service account must be a DNS subdomain (a-z, 0-9, -, ., at most 253)');
    return new SpiffeId(trustDomain, namespace, serviceAccount);
  }

  /** Parses strictly: no query, fragment, port, userinfo, percent-encoding, empty or dot segments. */
  static parse(value: string): SpiffeId {
    if (typeof value !== 'string') throw invalid(String(value), 'not a string');
    if (value.length > MAX_ID_LENGTH) throw invalid(value.slice(0, 64) + '…', `longer than ${MAX_ID_LENGTH} bytes`);
    if (!value.startsWith('spiffe://')) throw invalid(value, 'must start with spiffe://');
    const rest = value.slice('spiffe://'.length);
    if (/[?#%@:\s\\]/.test(rest)) throw invalid(value, 'query, fragment, port, userinfo, escapes and spaces are not allowed');
    const parts = rest.split('/');
    if (parts.some((p) => p === '')) throw invalid(value, 'empty path segment');
    if (parts.some((p) => p === '.' || p === '..')) throw invalid(value, 'dot segments are not allowed');
    if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa')
      throw invalid(value, 'path must be /ns/<namespace>/sa/<service-account>');
    return SpiffeId.of(parts[0], parts[2], parts[4]);
  }

  /** Parses or returns undefined, for peers whose certificate may carry anything. */
  static tryParse(value: string): SpiffeId | undefined {
    try {
      return SpiffeId.parse(value);
    } catch {
      return undefined;
    }
  }

  equals(other: SpiffeId | string | undefined | null): boolean {
    if (other == null) return false;
    return this.uri === (typeof other === 'string' ? other : other.uri);
  }

  toString(): string {
    return this.uri;
  }

  toJSON(): string {
    return this.uri;
  }
}

function invalid(value: string, reason: string): WeftError {
  return new WeftError('ERR_WEFT_SPIFFE_INVALID', { value, reason });
}
