import { isIP } from 'node:net';
import { splitHostPort } from '../host-port.js';

/** Where a tunnel goes: the CONNECT `:authority`, split. */
export interface TunnelTarget {
  /** As received, e.g. `10.244.1.5:8080` or `[fd00::5]:80`. */
  readonly authority: string;
  /** The IP literal without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Parses `<ipv4>:<port>` or `[<ipv6>]:<port>`; anything else (host names, no port, port 0) is undefined. */
export function parseAuthority(authority: string | undefined): TunnelTarget | undefined {
  if (typeof authority !== 'string' || authority.length > 64) return undefined;
  const hp = splitHostPort(authority);
  if (!hp || hp.port === 0) return undefined;
  // An IPv6 literal comes bracketed, an IPv4 one bare: `[10.0.0.1]:80` is refused.
  if (isIP(hp.host) !== (authority.startsWith('[') ? 6 : 4)) return undefined;
  return { authority, host: hp.host, port: hp.port };
}

/** The client address of a `forwarded: for=<ip>` header (RFC 7239; IPv6 quoted and bracketed). */
export function parseForwardedFor(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /(?:^|[;,\s])for=("?)\[?([0-9a-fA-F.:]+)\]?\1/i.exec(value);
  if (!m) return undefined;
  return isIP(m[2]) ? m[2] : undefined;
}
