import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId, type WorkloadCertificate } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';

// The benches' PKI on disk: weft processes read workload certificates as JSON, haproxy reads PEM files.

interface StoredCertificate {
  identity: string;
  certChainPem: string[];
  keyPem: string;
  notBefore: string;
  notAfter: string;
}

export function writeCertificate(dir: string, name: string, cert: WorkloadCertificate): void {
  const stored: StoredCertificate = {
    identity: cert.identity.toString(),
    certChainPem: cert.certChainPem,
    keyPem: cert.keyPem,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(stored), { mode: 0o600 });
  // haproxy: certificate chain then key in one file.
  writeFileSync(join(dir, `${name}.pem`), cert.certChainPem.join('\n') + '\n' + cert.keyPem, { mode: 0o600 });
}

export function readCertificate(dir: string, name: string): WorkloadCertificate {
  const s = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as StoredCertificate;
  return { identity: SpiffeId.parse(s.identity), certChainPem: s.certChainPem, keyPem: s.keyPem, notBefore: new Date(s.notBefore), notAfter: new Date(s.notAfter) };
}

export function readRoots(dir: string): string[] {
  return [readFileSync(join(dir, 'ca.pem'), 'utf8')];
}

/**
 * A fresh root (trust domain cluster.local) and two workload certificates of weft's own kind (ECDSA P-256,
 * URI SAN only), `client` and `server` of the given namespace, written to dir as ca.pem and
 * client|server.{json,pem}.
 */
export async function writeBenchPki(dir: string, o: { commonName: string; namespace: string }): Promise<void> {
  const trustDomain = 'cluster.local';
  const ca = await CertificateAuthority.createRoot({ trustDomain, commonName: o.commonName });
  const certs = new CertificateManager({ certifier: new LocalCertifier(ca), logger: silentLogger });
  try {
    writeFileSync(join(dir, 'ca.pem'), ca.rootsPem.join('\n'));
    writeCertificate(dir, 'client', await certs.get(SpiffeId.of(trustDomain, o.namespace, 'client')));
    writeCertificate(dir, 'server', await certs.get(SpiffeId.of(trustDomain, o.namespace, 'server')));
  } finally {
    certs.close();
  }
}
