// Pins caller authentication: ES256 bound-token JWTs minted for the lab verify with the public key (PEM
// or JWKS) and are refused when expired, not yet valid, for another audience, tampered, `alg: none` or
// signed by another key. The cluster-mode verifier (TokenReview against a real API server):
// on-kube/identity.ts, run by kube-api-server.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import {
  JwtTokenVerifier,
  generateTokenKeyPair,
  mintToken,
  publicKeyPemOf,
  verifyToken,
} from '../../control/identity/tokens.js';
import { hasCode } from '../../lib/errors/index.js';

let keys: { privateKeyPem: string; publicKeyPem: string };
const claims = { namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: 'agent-n1', uid: 'p1' }, node: { name: 'n1', uid: 'n1u' } };

beforeAll(async () => {
  keys = await generateTokenKeyPair();
});

describe('tokens (directory mode JWTs)', () => {
  it('mints a token that verifies with the PEM and carries the bound-token claims', async () => {
    const token = await mintToken(keys.privateKeyPem, claims);
    const c = await verifyToken(token, { publicKeys: keys.publicKeyPem, audience: 'weft' });
    expect(c.sub).toBe('system:serviceaccount:weft-system:weft-node-agent');
    expect(c.aud).toEqual(['weft']);
    expect(c['kubernetes.io']).toMatchObject({ namespace: 'weft-system', serviceaccount: { name: 'weft-node-agent' }, pod: { name: 'agent-n1' }, node: { name: 'n1' } });
    const caller = await new JwtTokenVerifier({ publicKeys: keys.publicKeyPem, audience: 'weft' }).verify(token);
    expect(caller).toMatchObject({ namespace: 'weft-system', serviceAccount: 'weft-node-agent', podName: 'agent-n1', podUid: 'p1', nodeName: 'n1' });
    expect(await publicKeyPemOf(keys.privateKeyPem)).toBe(keys.publicKeyPem);
  });

  it('verifies with a JWKS', async () => {
    const spki = Buffer.from(keys.publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const key = await webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    const jwk = await webcrypto.subtle.exportKey('jwk', key);
    const token = await mintToken(keys.privateKeyPem, claims);
    await expect(verifyToken(token, { publicKeys: { keys: [jwk] }, audience: 'weft' })).resolves.toBeDefined();
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['expired', () => mintToken(keys.privateKeyPem, claims, { lifetimeSeconds: 60, now: new Date(Date.now() - 3600_000) }), /expired/],
    ['not yet valid', () => mintToken(keys.privateKeyPem, claims, { now: new Date(Date.now() + 3600_000) }), /not valid before/],
    ['wrong audience', () => mintToken(keys.privateKeyPem, { ...claims, audience: ['https://kubernetes.default.svc'] }), /audience/],
    ['another key', async () => mintToken((await generateTokenKeyPair()).privateKeyPem, claims), /signature/],
    [
      'tampered payload',
      async () => {
        const [h, p, s] = (await mintToken(keys.privateKeyPem, claims)).split('.') as [string, string, string];
        const body = JSON.parse(Buffer.from(p, 'base64url').toString()) as { 'kubernetes.io': { node: { name: string } } };
        body['kubernetes.io'].node.name = 'n2';
        return `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`;
      },
      /signature/,
    ],
    [
      'alg none',
      async () => {
        const [, p] = (await mintToken(keys.privateKeyPem, claims)).split('.') as [string, string];
        return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
      },
      /algorithm/,
    ],
    ['garbage', () => Promise.resolve('not-a-token'), /JWS/],
  ];
  for (const [name, make, reason] of refusals) {
    it(`refuses a token: ${name}`, async () => {
      const err = await verifyToken(await make(), { publicKeys: keys.publicKeyPem, audience: 'weft' }).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CONTROL_TOKEN_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(reason);
    });
  }
});
