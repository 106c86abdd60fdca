import { WeftError } from './errors/index.js';

// `host:port` as flags, config files and CONNECT authorities write it. IPv6 hosts must be bracketed
// (`[fd00::1]:80`): without brackets `fd00::1:80` is itself an address, and guessing would be wrong.

export interface HostPort {
  /** Without brackets; may be empty (`:15012`, every address). */
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([^\][]*)\]|([^:[\]]*)):([0-9]{1,5})$/;

/** Splits `host:port` or `[v6]:port`; undefined when malformed or the port is not in 0..65535. */
export function splitHostPort(value: string | undefined): HostPort | undefined {
  if (typeof value !== 'string') return undefined;
  const m = HOST_PORT.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}

/** splitHostPort for an address option: a malformed value is refused with a message naming `option`. */
export function parseHostPort(value: string, option: string): HostPort {
  const hp = splitHostPort(value);
  if (!hp) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `${option} must be host:port (IPv6 as [addr]:port), not ${JSON.stringify(value)}` });
  return hp;
}
