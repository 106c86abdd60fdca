import { subtle, EC_P256 } from './crypto.js';

/** A new ECDSA P-256 key pair; the private key is extractable so it can be handed to TLS as PEM. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC_P256, true, ['sign', 'verify']));
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return toPem(der, 'PRIVATE KEY');
}

/** Imports a PKCS#8 PEM ECDSA key (P-256 or P-384) for signing. */
export async function importPrivateKeyPem(pem: string, namedCurve: 'P-256' | 'P-384' = 'P-256'): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', fromPem(pem, 'PRIVATE KEY'), { name: 'ECDSA', namedCurve }, true, ['sign']);
}

export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function fromPem(pem: string, label: string): Uint8Array {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const m = re.exec(pem);
  if (!m) throw new Error(`no ${label} block in PEM`);
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

/** Splits a PEM bundle into its certificate blocks, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((b) => b + '\n') ?? [];
}
