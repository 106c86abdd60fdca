import { isIP } from 'node:net';

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
  const colon = authority.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = authority.slice(0, colon);
  const portText = authority.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return undefined;
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return undefined;
  } else if (isIP(host) !== 4) {
    return undefined;
  }
  return { authority, host, port };
}

/** The client address of a `forwarded: for=<ip>` header (RFC 7239; IPv6 quoted and bracketed). */
export function parseForwardedFor(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /(?:^|[;,\s])for=("?)\[?([0-9a-fA-F.:]+)\]?\1/i.exec(value);
  if (!m) return undefined;
  return isIP(m[2]) ? m[2] : undefined;
}
