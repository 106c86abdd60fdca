import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** Certificates found in PEM text (other blocks, e.g. keys, are ignored). */
export function certificatesIn(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new x509.X509Certificate(b));
}

export interface CertVerdict {
  subject: string;
  notAfter: Date;
  daysLeft: number;
  problem?: string;
}

/**
 * What an issuing CA that expires before one full leaf lifetime from now means (it caps every leaf at its
 * own expiry), as a message; undefined when it lasts at least that long or has already expired (the
 * validity checks report that).
 */
export function shorterThanLeafLifetime(issuing: x509.X509Certificate, leafLifetimeSeconds: number, now: Date): string | undefined {
  const leftMs = issuing.notAfter.getTime() - now.getTime();
  if (leftMs <= 0 || leftMs >= leafLifetimeSeconds * 1000) return undefined;
  return `the issuing CA ${issuing.subject || '(empty subject)'} expires ${issuing.notAfter.toISOString()}, in ${duration(Math.floor(leftMs / 1000))}: less than one leaf lifetime (${duration(leafLifetimeSeconds)}), so every workload certificate is cut short at that time and none can be issued after it`;
}

function duration(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}

/** Valid now and for at least `minSeconds` more; the problem says which it is not. */
export function judgeCertificate(cert: x509.X509Certificate, now: Date, minSeconds: number): CertVerdict {
  const daysLeft = Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000);
  const v: CertVerdict = { subject: cert.subject || '(empty subject)', notAfter: cert.notAfter, daysLeft };
  if (cert.notBefore.getTime() > now.getTime()) v.problem = `not valid before ${cert.notBefore.toISOString()}`;
  else if (cert.notAfter.getTime() <= now.getTime()) v.problem = `expired on ${cert.notAfter.toISOString()}`;
  else if (cert.notAfter.getTime() - now.getTime() < minSeconds * 1000) v.problem = `expires in ${daysLeft} days (${cert.notAfter.toISOString()})`;
  return v;
}
