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

/** Valid now and for at least `minDays` more; the problem says which it is not. */
export function judgeCertificate(cert: x509.X509Certificate, now: Date, minDays: number): CertVerdict {
  const daysLeft = Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000);
  const v: CertVerdict = { subject: cert.subject || '(empty subject)', notAfter: cert.notAfter, daysLeft };
  if (cert.notBefore.getTime() > now.getTime()) v.problem = `not valid before ${cert.notBefore.toISOString()}`;
  else if (cert.notAfter.getTime() <= now.getTime()) v.problem = `expired on ${cert.notAfter.toISOString()}`;
  else if (daysLeft < minDays) v.problem = `expires in ${daysLeft} days (${cert.notAfter.toISOString()})`;
  return v;
}
