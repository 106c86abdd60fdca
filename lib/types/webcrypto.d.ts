// WebCrypto type names as globals without pulling the whole DOM lib into a Node project: @peculiar/x509's
// declarations and lib/identity use them unqualified.
import type { webcrypto } from 'node:crypto';

declare global {
  type Crypto = webcrypto.Crypto;
  type SubtleCrypto = webcrypto.SubtleCrypto;
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
  type KeyAlgorithm = webcrypto.KeyAlgorithm;
  type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;
  type EcKeyGenParams = webcrypto.EcKeyGenParams;
  type EcdsaParams = webcrypto.EcdsaParams;
  type Algorithm = webcrypto.Algorithm;
  type BufferSource = webcrypto.BufferSource;
}
export {};
