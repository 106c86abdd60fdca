import { defineCodes } from '../spec.js';

// Identity and PKI: SPIFFE IDs, CSRs, the CA, trust bundles and workload certificates.
export const identityCodes = defineCodes({
  ERR_WEFT_SPIFFE_INVALID: {
    message: 'invalid SPIFFE ID {value}: {reason}',
    hint: 'A workload identity reads spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>, each part a DNS label.',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_TOO_LARGE: {
    message: 'CSR of {size} bytes is larger than the {max} bytes allowed',
    hint: 'Send a PEM CSR for one ECDSA P-256 key with a single URI SAN; nothing else belongs in it.',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_MALFORMED: {
    message: 'CSR could not be parsed: {reason}',
    hint: 'Send a PEM-encoded PKCS#10 CERTIFICATE REQUEST, e.g. from createCsr() in lib/identity.',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_BAD_SIGNATURE: {
    message: 'CSR signature does not verify with the key it carries',
    hint: 'The CSR was altered or signed with another key; generate it again with the key you will use.',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_KEY_UNSUPPORTED: {
    message: 'CSR key {key} is not allowed; workload keys must be ECDSA P-256',
    hint: 'Generate the workload key with generateKeyPair() (ECDSA P-256).',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_SAN: {
    message: 'CSR must carry exactly one URI SAN and no other names: {reason}',
    hint: 'Put only the SPIFFE ID of the workload in the subjectAltName extension.',
    http: 400,
    grpc: 3,
  },
  ERR_WEFT_CSR_IDENTITY_MISMATCH: {
    message: 'CSR asks for {requested} but the caller may only have {allowed}',
    hint: 'A node agent gets certificates only for pods on its own node; a waypoint only for its own ServiceAccount.',
    http: 403,
    grpc: 7,
  },
  ERR_WEFT_CA_INVALID: {
    message: 'CA material is unusable: {reason}',
    hint: 'Give a CA certificate (basicConstraints CA:true, keyCertSign) in PEM, its parents up to a root, and its PKCS#8 ECDSA key.',
    grpc: 9,
  },
  ERR_WEFT_CERT_CHAIN_INVALID: {
    message: 'certificate chain is not trusted: {reason}',
    hint: 'The peer or the issued chain does not lead to a root in the trust bundle, or a certificate is outside its validity window.',
    http: 401,
    flag: 'TLS',
  },
  ERR_WEFT_CERT_ISSUE_FAILED: {
    message: 'could not obtain a certificate for {identity}: {reason}',
    hint: 'Check that the control plane is reachable and that this node may request that identity; the manager retries with backoff.',
    http: 503,
    grpc: 14,
    flag: 'IDENTITY',
  },
});
