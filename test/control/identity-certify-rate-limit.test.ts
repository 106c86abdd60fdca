// Pins: IdentityService.Certify answered a caller as fast as it asked (a node agent near CA expiry made
// 6 836 calls in 30 s, each a signature). Now each verified caller has a token bucket: past its burst it
// gets RESOURCE_EXHAUSTED with ERR_WEFT_CONTROL_RATE_LIMITED and when to retry, one warning per caller
// per window (not per call), weft_control_certify_rate_limited_total by caller kind; the bucket is keyed
// by the verified caller (node of a node agent), so a new token, another pod on the same node or another
// requested identity does not get a fresh one; other callers are unaffected; the bucket map is bounded.
// Time is a fake clock handed to the limiter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import '../../lib/identity/crypto.js';
import { SpiffeId, createCsr, generateKeyPair } from '../../lib/identity/index.js';
import { createLogger } from '../../lib/telemetry/log.js';
import { controlChannelOptions, controlCredentials } from '../../lib/control-client/channel.js';
import { IdentityServiceClient, type CertifyResponse } from '../../api/gen/weft/v1/identity.js';
import { CallerRateLimiter } from '../../control/identity/certify-rate-limit.js';
import { parseControlArgs } from '../../control/config.js';
import { namespace, pod, startTestControl, waypointDeployment, waypointGateway, type TestControl } from './compile-fixtures.js';

let ctl: TestControl;
let raw: IdentityServiceClient;
let now = 1_000_000;
const lines: Record<string, unknown>[] = [];
const registry = new Registry();
const agent = (podName: string) => ({ namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: podName, uid: `${podName}-uid` }, node: { name: 'n1' } });
const id = (ns: string, sa: string) => SpiffeId.of('cluster.local', ns, sa);

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  ctl = await startTestControl(
    [
      namespace('shop'),
      namespace('weft-system'),
      pod('agent-n1', { ns: 'weft-system', uid: 'agent-n1-uid', node: 'n1', sa: 'weft-node-agent' }),
      pod('agent-n1b', { ns: 'weft-system', uid: 'agent-n1b-uid', node: 'n1', sa: 'weft-node-agent' }),
      pod('cart', { ns: 'shop', node: 'n1', sa: 'cart' }),
      pod('web', { ns: 'shop', node: 'n1', sa: 'web' }),
      waypointGateway('wp', 'shop'),
      waypointDeployment('wp', 'shop', 'wp-sa'),
    ],
    { certify: { rateLimit: { burst: 3, ratePerSecond: 1, reportWindowMs: 30_000, now: () => now }, logger: createLogger({ name: 't', level: 'info', destination: sink }), registry } },
  );
  const opts = { address: ctl.address, caRootPem: ctl.caRootPem };
  raw = new IdentityServiceClient(ctl.address, controlCredentials(opts), controlChannelOptions(opts));
});
afterAll(async () => {
  raw?.close();
  await ctl?.close();
});

const csrs = new Map<string, string>();
async function csrFor(identity: SpiffeId): Promise<string> {
  const k = identity.toString();
  if (!csrs.has(k)) csrs.set(k, await createCsr(identity, await generateKeyPair()));
  return csrs.get(k)!;
}

async function call(token: string, identity: SpiffeId): Promise<{ ok: true } | { ok: false; err: ServiceError }> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const csrPem = await csrFor(identity);
  return new Promise((resolve) =>
    raw.certify({ csrPem, requestedIdentity: identity.toString(), lifetimeS: 3600 }, md, { deadline: Date.now() + 20_000 }, (err: ServiceError | null, _r?: CertifyResponse) =>
      resolve(err ? { ok: false, err } : { ok: true }),
    ),
  );
}

function rateLimitLogs(): Record<string, unknown>[] {
  return lines.filter((l) => l.code === 'ERR_WEFT_CONTROL_RATE_LIMITED');
}

async function limitedCount(kind: string): Promise<number> {
  const m = await registry.getSingleMetric('weft_control_certify_rate_limited_total')?.get();
  return m?.values.find((v) => v.labels.caller_kind === kind)?.value ?? 0;
}

describe('IdentityService.Certify rate limit per caller', () => {
  it('refuses a caller past its burst with RESOURCE_EXHAUSTED, a retry time, one log line and a metric; others go on', async () => {
    const token = await ctl.token(agent('agent-n1'));
    for (let i = 0; i < 3; i++) expect((await call(token, id('shop', 'cart'))).ok).toBe(true);

    const refused = await call(token, id('shop', 'cart'));
    expect(refused.ok).toBe(false);
    const err = (refused as { err: ServiceError }).err;
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/^ERR_WEFT_CONTROL_RATE_LIMITED: the node agent of n1 made more IdentityService.Certify calls than allowed \(3 at once, 1\/s sustained per caller\); retry in 1000 ms$/);
    expect(err.metadata.get('weft-error-code')).toEqual(['ERR_WEFT_CONTROL_RATE_LIMITED']);
    expect(err.metadata.get('weft-retry-after-ms')).toEqual(['1000']);

    // A storm: every call refused, still one log line in the window, each call counted.
    for (let i = 0; i < 25; i++) expect((await call(token, id('shop', 'cart'))).ok).toBe(false);
    expect(rateLimitLogs()).toHaveLength(1);
    expect(rateLimitLogs()[0]).toMatchObject({ level: 'warn', callerKind: 'node-agent', caller: 'node/n1', refused: 1, retryAfterMs: 1000 });
    expect(lines.filter((l) => l.msg === 'certify refused')).toHaveLength(0); // no per-call warning either
    expect(await limitedCount('node-agent')).toBe(26);
    expect(await limitedCount('waypoint')).toBe(0);

    // Another caller has its own bucket.
    const wp = await ctl.token({ namespace: 'shop', serviceAccount: 'wp-sa', pod: { name: 'wp-abcde', uid: 'x' } });
    expect((await call(wp, id('shop', 'wp-sa'))).ok).toBe(true);

    // The bucket refills at the rate: after 1 s one call, not two.
    now += 1_000;
    expect((await call(token, id('shop', 'cart'))).ok).toBe(true);
    expect((await call(token, id('shop', 'cart'))).ok).toBe(false);
    expect(rateLimitLogs()).toHaveLength(1);

    // Next window: a refusal logs again, with what was refused since the last line (25 + 1 + this one).
    now += 30_000;
    for (let i = 0; i < 3; i++) expect((await call(token, id('shop', 'cart'))).ok).toBe(true);
    expect((await call(token, id('shop', 'cart'))).ok).toBe(false);
    expect(rateLimitLogs()).toHaveLength(2);
    expect(rateLimitLogs()[1]).toMatchObject({ caller: 'node/n1', refused: 27 });
  });

  it('keys the bucket on the verified node, not on the token, the agent pod or the requested identity', async () => {
    now += 60_000; // every bucket full again
    const first = await ctl.token(agent('agent-n1'));
    for (let i = 0; i < 3; i++) expect((await call(first, id('shop', i % 2 === 0 ? 'cart' : 'web'))).ok).toBe(true);
    const fresh = await ctl.token(agent('agent-n1'), { lifetimeSeconds: 1800 });
    const otherPodSameNode = await ctl.token(agent('agent-n1b'));
    const noNodeClaim = await ctl.token({ ...agent('agent-n1b'), node: undefined }); // node from the bound pod
    for (const t of [first, fresh, otherPodSameNode, noNodeClaim]) {
      for (const who of [id('shop', 'cart'), id('shop', 'web')]) {
        const r = await call(t, who);
        expect(r.ok).toBe(false);
        expect((r as { err: ServiceError }).err.code).toBe(status.RESOURCE_EXHAUSTED);
      }
    }
  });
});

describe('CallerRateLimiter', () => {
  it('keeps at most maxCallers buckets and drops buckets that have refilled', () => {
    let t = 0;
    const limiter = new CallerRateLimiter({ burst: 2, ratePerSecond: 1, maxCallers: 100, now: () => t });
    for (let i = 0; i < 1_000; i++) expect(limiter.take(`caller-${i}`).allowed).toBe(true);
    expect(limiter.size).toBe(100);
    // Idle callers (refilled after 1 s) are swept on the minute; the active one stays.
    t += 61_000;
    expect(limiter.take('active').allowed).toBe(true);
    expect(limiter.size).toBe(1);
    expect(limiter.take('active').allowed).toBe(true);
    expect(limiter.take('active')).toMatchObject({ allowed: false, retryAfterMs: 1000 });
  });
});

describe('weft-control flags', () => {
  it('defaults to burst 200 and 20/s per caller, and refuses nonsense', async () => {
    expect((await parseControlArgs(['--source', 'kube'])).certifyRateLimit).toEqual({ burst: 200, ratePerSecond: 20 });
    expect((await parseControlArgs(['--source', 'kube', '--certify-burst', '50', '--certify-rate', '2.5'])).certifyRateLimit).toEqual({ burst: 50, ratePerSecond: 2.5 });
    await expect(parseControlArgs(['--source', 'kube', '--certify-rate', '0'])).rejects.toThrow(/--certify-rate must be a number > 0/);
    await expect(parseControlArgs(['--source', 'kube', '--certify-burst', '0'])).rejects.toThrow(/--certify-burst must be a number >= 1/);
  });
});
