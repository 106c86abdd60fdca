// Pins the control plane wired as the process runs it (startControl from control/main.ts): a
// DirectorySource on a temp cluster dir, the CA created in --ca-dir, readiness on /healthz/ready,
// metrics, and data-plane clients over real gRPC/TLS: a DiscoveryClient's StateStore receives a manifest
// change, and a ControlCertifier gets a certificate for a pod on its node that chains to the CA root.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlProcess } from '../../control/main.js';
import { DiscoveryClient } from '../../lib/control-client/discovery-client.js';
import { ControlCertifier } from '../../lib/control-client/certifier.js';
import { StateStore } from '../../lib/model/index.js';
import { SpiffeId, TrustBundle, createCsr, generateKeyPair } from '../../lib/identity/index.js';
import { namespace, pod, service, until } from './compile-fixtures.js';
import { startDirControl, type DirControl } from './control-process-fixture.js';

let root: string;
let proc: ControlProcess;
let put: DirControl['put'];
let client: DiscoveryClient | undefined;
let certifier: ControlCertifier | undefined;
const store = new StateStore();

beforeAll(async () => {
  ({ root, proc, put } = await startDirControl('weft-tmain-', [
    namespace('weft-system'),
    namespace('shop', { 'weft.dev/dataplane-mode': 'ambient' }),
    pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' }),
    pod('cart-1', { ns: 'shop', node: 'n1', sa: 'cart', uid: 'c1', labels: { app: 'cart' } }),
    service('cart', { ns: 'shop' }),
  ]));
});

afterAll(async () => {
  client?.close();
  certifier?.close();
  await proc?.close();
  await rm(root, { recursive: true, force: true });
});

describe('weft-control end to end (directory mode)', () => {
  it('is ready, serves metrics, and kept its CA in --ca-dir', async () => {
    const ready = await fetch(`http://127.0.0.1:${proc.healthPort}/healthz/ready`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text()).toContain('weft_control_watchers');
    expect(await readFile(path.join(root, 'ca', 'ca.crt'), 'utf8')).toContain(proc.ca.certPem.trim().split('\n')[1]);
  });

  it('delivers a manifest change to a DiscoveryClient StateStore and certifies through ControlCertifier', async () => {
    const address = `127.0.0.1:${proc.grpcPort}`;
    const caRootPem = proc.ca.rootsPem.join('');
    client = new DiscoveryClient({ address, caRootPem, node: 'n1', tokenFile: path.join(root, 'agent.token'), store });
    client.start();
    await client.synced();
    expect(store.workloadByUid('c1')).toMatchObject({ name: 'cart-1', captured: true });
    expect(store.service('shop', 'cart')?.endpoints.map((e) => e.workloadUid)).toEqual(['c1']);

    await put(pod('cart-2', { ns: 'shop', node: 'n2', sa: 'cart', uid: 'c2', labels: { app: 'cart' }, ip: '10.244.2.7' }));
    await until(() => store.service('shop', 'cart')?.endpoints.length === 2, 'new endpoint in the client store', 15_000);
    expect(store.workloadByIp('10.244.2.7')?.name).toBe('cart-2');

    certifier = new ControlCertifier({ address, caRootPem, tokenFile: path.join(root, 'agent.token') });
    const identity = SpiffeId.of('cluster.local', 'shop', 'cart');
    const chain = await certifier.certify(await createCsr(identity, await generateKeyPair()), identity, 3600);
    await new TrustBundle(proc.ca.rootsPem).verifyChain(chain);
  });
});
