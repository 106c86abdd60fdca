// Pins IdentityService.Certify authorization over real gRPC/TLS: a node agent gets certificates only for
// service accounts of pods on its own node (node from the token's node claim or its bound pod), a
// waypoint only for its own service account; refusals carry the right gRPC status and reason: token for
// another node, expired token, wrong audience, missing token, CSR for another identity, garbage CSR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import '../../lib/identity/crypto.js';
import { SpiffeId, TrustBundle, createCsr, generateKeyPair } from '../../lib/identity/index.js';
import { ControlCertifier } from '../../lib/control-client/certifier.js';
import { controlChannelOptions, controlCredentials } from '../../lib/control-client/channel.js';
import { IdentityServiceClient, type CertifyResponse } from '../../api/gen/weft/v1/identity.js';
import { namespace, pod, startTestControl, waypointDeployment, waypointGateway, type TestControl } from './compile-fixtures.js';

let ctl: TestControl;
let raw: IdentityServiceClient;
const agentN1 = { namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: 'agent-n1', uid: 'agent-n1-uid' }, node: { name: 'n1' } };
const id = (ns: string, sa: string) => SpiffeId.of('cluster.local', ns, sa);

beforeAll(async () => {
  ctl = await startTestControl([
    namespace('shop'),
    namespace('weft-system'),
    pod('agent-n1', { ns: 'weft-system', uid: 'agent-n1-uid', node: 'n1', sa: 'weft-node-agent' }),
    pod('cart', { ns: 'shop', node: 'n1', sa: 'cart' }),
    pod('pay', { ns: 'shop', node: 'n2', sa: 'pay' }),
    waypointGateway('wp', 'shop'),
    waypointDeployment('wp', 'shop', 'wp-sa'),
  ]);
  raw = new IdentityServiceClient(ctl.address, controlCredentials({ address: ctl.address, caRootPem: ctl.caRootPem }), controlChannelOptions({ address: ctl.address, caRootPem: ctl.caRootPem }));
});
afterAll(async () => {
  raw?.close();
  await ctl?.close();
});

async function csrFor(identity: SpiffeId): Promise<string> {
  return createCsr(identity, await generateKeyPair());
}

function call(token: string | undefined, csrPem: string, requestedIdentity: string): Promise<CertifyResponse> {
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    raw.certify({ csrPem, requestedIdentity, lifetimeS: 3600 }, md, { deadline: Date.now() + 20_000 }, (err: ServiceError | null, r?: CertifyResponse) => (err ? reject(err) : resolve(r!))),
  );
}

async function refusal(p: Promise<unknown>): Promise<ServiceError> {
  const err = (await p.catch((e: unknown) => e)) as ServiceError;
  expect(err).toBeInstanceOf(Error);
  return err;
}

describe('IdentityService.Certify', () => {
  it('issues a node agent a certificate for a service account of a pod on its node (ControlCertifier)', async () => {
    const certifier = new ControlCertifier({ address: ctl.address, caRootPem: ctl.caRootPem, tokenFile: await ctl.tokenFile(agentN1) });
    try {
      const chain = await certifier.certify(await csrFor(id('shop', 'cart')), id('shop', 'cart'), 3600);
      expect(chain.length).toBeGreaterThan(0);
      await new TrustBundle(ctl.ca.rootsPem).verifyChain(chain);
    } finally {
      certifier.close();
    }
  });

  it('derives the node from the bound pod when the token has no node claim', async () => {
    const token = await ctl.token({ ...agentN1, node: undefined });
    await expect(call(token, await csrFor(id('shop', 'cart')), id('shop', 'cart').toString())).resolves.toHaveProperty('certChainPem');
    const err = await refusal(call(token, await csrFor(id('shop', 'pay')), id('shop', 'pay').toString()));
    expect(err.code).toBe(status.PERMISSION_DENIED);
  });

  it('refuses a node agent an identity whose pods run on another node', async () => {
    const err = await refusal(call(await ctl.token(agentN1), await csrFor(id('shop', 'pay')), id('shop', 'pay').toString()));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toMatch(/no pod on node n1 runs as service account shop\/pay/);
  });

  it('refuses a token for another node claiming to be n2 without the bound pod being there', async () => {
    const token = await ctl.token({ ...agentN1, node: { name: 'n2' } });
    // The token says n2, so pay (on n2) is allowed and cart (on n1) is not: the node comes from the token.
    const err = await refusal(call(token, await csrFor(id('shop', 'cart')), id('shop', 'cart').toString()));
    expect(err.code).toBe(status.PERMISSION_DENIED);
  });

  it('refuses expired tokens, wrong audiences and missing tokens as UNAUTHENTICATED', async () => {
    const csr = await csrFor(id('shop', 'cart'));
    const expired = await refusal(call(await ctl.token(agentN1, { lifetimeSeconds: 60, now: new Date(Date.now() - 7200_000) }), csr, id('shop', 'cart').toString()));
    expect(expired.code).toBe(status.UNAUTHENTICATED);
    expect(expired.details).toMatch(/expired/);
    const aud = await refusal(call(await ctl.token({ ...agentN1, audience: ['other'] }), csr, id('shop', 'cart').toString()));
    expect(aud.code).toBe(status.UNAUTHENTICATED);
    expect(aud.details).toMatch(/audience/);
    const none = await refusal(call(undefined, csr, id('shop', 'cart').toString()));
    expect(none.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a CSR for another identity than the requested one, and garbage CSRs', async () => {
    const token = await ctl.token(agentN1);
    const mismatch = await refusal(call(token, await csrFor(id('shop', 'pay')), id('shop', 'cart').toString()));
    expect(mismatch.code).toBe(status.PERMISSION_DENIED);
    expect(mismatch.details).toMatch(/ERR_WEFT_CSR_IDENTITY_MISMATCH/);
    const garbage = await refusal(call(token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', id('shop', 'cart').toString()));
    expect(garbage.code).toBe(status.INVALID_ARGUMENT);
    const badId = await refusal(call(token, await csrFor(id('shop', 'cart')), 'spiffe://cluster.local/not/an/id'));
    expect(badId.code).toBe(status.INVALID_ARGUMENT);
  });

  it('gives a waypoint only its own service account identity', async () => {
    const token = await ctl.token({ namespace: 'shop', serviceAccount: 'wp-sa', pod: { name: 'wp-abcde', uid: 'x' } });
    await expect(call(token, await csrFor(id('shop', 'wp-sa')), id('shop', 'wp-sa').toString())).resolves.toHaveProperty('certChainPem');
    const err = await refusal(call(token, await csrFor(id('shop', 'cart')), id('shop', 'cart').toString()));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toMatch(/waypoint shop\/wp may only have its own identity/);
  });

  it('refuses any other caller with the reason', async () => {
    const token = await ctl.token({ namespace: 'shop', serviceAccount: 'cart' });
    const err = await refusal(call(token, await csrFor(id('shop', 'cart')), id('shop', 'cart').toString()));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toMatch(/neither a node agent nor a waypoint/);
  });
});
