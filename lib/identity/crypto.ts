import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 uses a global provider; set it once to Node's WebCrypto before any certificate work.
x509.cryptoProvider.set(webcrypto);

export { x509 };
export const subtle = webcrypto.subtle;

export const EC_P256: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const ECDSA_SHA256: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
