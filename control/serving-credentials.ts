import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import type { ServingCert } from './serving-cert.js';

/**
 * weft-control's gRPC TLS credentials with a serving certificate that can be replaced while the server
 * runs (root rotation: the signing CA switched): new connections get the new certificate, established
 * ones keep theirs. grpc-js re-applies the options to its listening servers (setSecureContext).
 */
export class ServingCredentials extends ServerCredentials {
  constructor(cert: ServingCert) {
    super({}, contextOptions(cert));
  }

  replace(cert: ServingCert): void {
    this.updateSecureContextOptions(contextOptions(cert));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

function contextOptions(cert: ServingCert): SecureContextOptions {
  return { cert: [Buffer.from(cert.certChainPem)], key: [Buffer.from(cert.keyPem)] };
}
