import { networkInterfaces } from 'node:os';
import { Server } from '@grpc/grpc-js';
import { IdentityServiceService } from '../api/gen/weft/v1/identity.js';
import type { CertificateAuthority } from '../lib/identity/index.js';
import { MAX_MESSAGE_BYTES } from '../lib/control-client/channel.js';
import type { CertifyService } from './identity/certify-service.js';
import { DiscoveryServiceDefinition, type WatchService } from './discovery/watch-service.js';
import { issueServingCert, servingNames } from './serving-cert.js';
import { ServingCredentials } from './serving-credentials.js';

// weft-control's gRPC endpoint (port 15012): IdentityService and DiscoveryService over TLS with a
// serving certificate from the control plane's own CA.

export interface ControlServer {
  readonly port: number;
  readonly server: Server;
  /** Root rotation: serves a certificate from `ca` to new connections (established ones keep theirs). */
  setCa(ca: CertificateAuthority): Promise<void>;
  /** Stops accepting, lets open calls end for `graceMs`, then forces. */
  close(graceMs?: number): Promise<void>;
}

export async function startControlServer(options: {
  listen: string;
  ca: CertificateAuthority;
  namespace: string;
  /** Extra SANs (listen IPs, hostnames); loopback is always included. */
  names?: readonly string[];
  certify: CertifyService;
  watch: WatchService;
}): Promise<ControlServer> {
  const names = servingNames(options.namespace, ['127.0.0.1', '::1', ...localAddresses(), ...(options.names ?? [])]);
  const cert = await issueServingCert(options.ca, names);
  const server = new Server({
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  server.addService(IdentityServiceService, options.certify.implementation());
  server.addService(DiscoveryServiceDefinition, options.watch.implementation());
  const creds = new ServingCredentials(cert);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(options.listen, creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    server,
    setCa: async (ca) => creds.replace(await issueServingCert(ca, names)),
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/** This host's addresses: data planes may dial any of them (the lab dials the root namespace's IP). */
function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.address.startsWith('fe80:'))
    .map((a) => a.address);
}
