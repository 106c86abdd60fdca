// Pins root rotation in weft-control without a restart (docs/rotation.md), in directory mode over real
// gRPC/TLS: (1) roots.pem with the old and the new root reaches data planes as the pushed trust bundle;
// (2) a new ca.crt/ca.key switches the signer — new leaves chain to the new root, new connections get a
// serving certificate under it, and a data plane whose --ca-root file still names only the old root keeps
// reaching the control plane because its control channel also trusts the pushed bundle (ControlRoots);
// (3) roots.pem with the new root only removes the old one. The same discovery stream carries it all.
// Also: a half-written switch (ca.crt replaced, ca.key not yet) is refused and the old CA kept.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlProcess } from '../../control/main.js';
import { CaReloader, DEFAULT_CA_RELOAD_MS } from '../../control/ca-reload.js';
import { parseControlArgs } from '../../control/config.js';
import { DirectoryCaBackend } from '../../control/ca-store.js';
import { ControlCertifier } from '../../lib/control-client/certifier.js';
import { ControlRoots } from '../../lib/control-client/control-roots.js';
import { DiscoveryClient } from '../../lib/control-client/discovery-client.js';
import { CertificateAuthority, SpiffeId, TrustBundle, createCsr, generateKeyPair } from '../../lib/identity/index.js';
import { StateStore } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { eventually } from '../support/eventually.js';
import { namespace, pod } from './compile-fixtures.js';
import { startDirControl } from './control-process-fixture.js';

let root: string;
let caDir: string;
let proc: ControlProcess;
const closers: (() => void)[] = [];

beforeAll(async () => {
  ({ root, caDir, proc } = await startDirControl('weft-trot-', [namespace('weft-system'), pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' })], { caReloadMs: 100 }));
});

afterAll(async () => {
  for (const c of closers) c();
  await proc?.close();
  await rm(root, { recursive: true, force: true });
});

/** The root the serving certificate of a NEW connection chains to, checked against `rootPem` only. */
function servingVerifiesWith(rootPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: proc.grpcPort, ca: rootPem, servername: 'weft-control', ALPNProtocols: ['h2'] }, () => {
      resolve(s.authorized);
      s.destroy();
    });
    s.on('error', () => resolve(false));
  });
}

async function certifyWith(certifier: ControlCertifier): Promise<string[]> {
  const identity = SpiffeId.of('cluster.local', 'weft-system', 'weft-node-agent');
  return certifier.certify(await createCsr(identity, await generateKeyPair()), identity, 3600);
}

describe('weft-control root rotation without restart', () => {
  it('distributes old+new roots, switches the signer and serving certificate, then removes the old root', async () => {
    const address = `127.0.0.1:${proc.grpcPort}`;
    const oldRoot = proc.ca.rootsPem[0];
    // The data plane's --ca-root file, left stale on purpose: it only ever names the old root.
    const staleFile = path.join(root, 'stale-ca-root.pem');
    await writeFile(staleFile, oldRoot);
    const store = new StateStore();
    const roots = await ControlRoots.fromFile(staleFile);
    roots.follow(store);
    closers.push(() => roots.close());
    const discovery = new DiscoveryClient({ address, caRootPem: roots.current(), roots, node: 'n1', tokenFile: path.join(root, 'agent.token'), store });
    closers.push(() => discovery.close());
    discovery.start();
    await discovery.synced();
    expect(store.trustBundle()?.roots).toEqual([oldRoot]);
    const connects = discovery.connects;

    const next = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const newRoot = next.rootsPem[0];

    // Step 1: both roots in roots.pem.
    await writeFile(path.join(caDir, 'roots.pem'), oldRoot + newRoot);
    await eventually(() => store.trustBundle()?.roots.length === 2, 10_000, 'the two-root bundle pushed');
    expect(store.trustBundle()?.roots.map((r) => r.trim())).toEqual([oldRoot.trim(), newRoot.trim()]);
    expect(roots.current()).toContain(newRoot.trim());
    expect(await servingVerifiesWith(oldRoot)).toBe(true);

    // Step 2: the new CA signs. The bundle now lists the new root first.
    const before = proc.ca;
    await writeFile(path.join(caDir, 'ca.key'), next.keyPem);
    await writeFile(path.join(caDir, 'ca.crt'), next.certPem);
    await eventually(() => proc.ca !== before && proc.ca.certPem === next.certPem, 10_000, 'the signer switched');
    await eventually(() => store.trustBundle()?.roots[0].trim() === newRoot.trim(), 10_000, 'the new root first in the bundle');
    expect(store.trustBundle()?.roots).toHaveLength(2);
    await eventually(() => servingVerifiesWith(newRoot), 10_000, 'new connections served under the new root');
    expect(await servingVerifiesWith(oldRoot)).toBe(false);
    // A data plane whose file names only the old root connects anew: the pushed bundle lets it verify.
    const certifier = new ControlCertifier({ address, caRootPem: oldRoot, roots, tokenFile: path.join(root, 'agent.token') });
    closers.push(() => certifier.close());
    const chain = await certifyWith(certifier);
    await new TrustBundle([newRoot]).verifyChain(chain);
    expect(await new TrustBundle([oldRoot]).trusts(chain)).toBe(false);

    // Step 3: only the new root.
    await writeFile(path.join(caDir, 'roots.pem'), newRoot);
    await eventually(() => store.trustBundle()?.roots.length === 1, 10_000, 'the old root removed from the bundle');
    expect(store.trustBundle()?.roots[0].trim()).toBe(newRoot.trim());
    // No restart, no reconnect: one discovery stream carried every step.
    expect(discovery.connects).toBe(connects);
  });

  it('refuses a half-written switch (ca.crt new, ca.key old) and keeps the current CA until the key follows', async () => {
    const dir = path.join(root, 'reload-ca');
    const backend = new DirectoryCaBackend(dir);
    const first = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const material = { certChainPem: first.certPem, keyPem: first.keyPem };
    await backend.createIfAbsent(material);
    const applied: string[] = [];
    const reloader = new CaReloader({ backend, trustDomain: 'cluster.local', initial: material, apply: (n) => void applied.push(n.ca.certPem), logger: silentLogger });
    expect(await reloader.check()).toBe(false);
    const second = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    await writeFile(path.join(dir, 'ca.crt'), second.certPem);
    expect(await reloader.check()).toBe(false);
    expect(applied).toEqual([]);
    await writeFile(path.join(dir, 'ca.key'), second.keyPem);
    expect(await reloader.check()).toBe(true);
    expect(applied).toEqual([second.certPem]);
    expect(await readFile(path.join(dir, 'ca.crt'), 'utf8')).toBe(second.certPem);
  });
});

describe('weft-control --ca-reload-interval', () => {
  it('defaults to 5 s, takes seconds, and refuses nonsense', async () => {
    expect(DEFAULT_CA_RELOAD_MS).toBe(5_000);
    expect((await parseControlArgs(['--source', 'kube'])).caReloadMs).toBe(5_000);
    expect((await parseControlArgs(['--source', 'kube', '--ca-reload-interval', '0.5'])).caReloadMs).toBe(500);
    await expect(parseControlArgs(['--source', 'kube', '--ca-reload-interval', '0'])).rejects.toThrow(/--ca-reload-interval must be seconds in \[0.1, 3600\]/);
  });
});
