import { isIP } from 'node:net';
import { credentials, experimental, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { ControlRoots } from './control-roots.js';

// How data planes reach weft-control: TLS verified against the CA root given by --ca-root, HTTP/2
// keepalive so a dead control plane is noticed within ~30 s even on an idle stream.

export interface ControlConnectionOptions {
  /** host:port of weft-control. */
  address: string;
  /** PEM root(s) the control plane's serving certificate chains to (--ca-root). */
  caRootPem: string;
  /** Live roots (root rotation): when given, every new connection verifies with their current value. */
  roots?: ControlRoots;
  /**
   * Name to check the server certificate against. Default: the address's host name, or `weft-control`
   * (always in the control plane's serving certificate) when the address is an IP, so clients work
   * whatever addresses the control plane's certificate lists.
   */
  serverName?: string;
}

/** Discovery snapshots of large clusters exceed gRPC's 4 MiB default; chunks stay well under this. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** A name every weft-control serving certificate carries (control/serving-cert.ts). */
export const CONTROL_SERVER_NAME = 'weft-control';

export function controlCredentials(o: ControlConnectionOptions): ChannelCredentials {
  if (o.roots !== undefined) return experimental.createCertificateProviderChannelCredentials(o.roots, null);
  return credentials.createSsl(Buffer.from(o.caRootPem));
}

export function controlChannelOptions(o: ControlConnectionOptions): ChannelOptions {
  const opts: ChannelOptions = {
    'grpc.keepalive_time_ms': 15_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    // Reconnects are paced by the callers' own jittered backoff; keep grpc-js's short.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 5_000,
  };
  const host = o.address.replace(/^\[/, '').replace(/\]?:\d+$/, '');
  const serverName = o.serverName ?? (isIP(host) ? CONTROL_SERVER_NAME : undefined);
  if (serverName) opts['grpc.ssl_target_name_override'] = serverName;
  return opts;
}
