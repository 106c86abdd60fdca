// Pins the data plane's discovery client: it syncs a StateStore from a real control server, keeps the
// last state when the control plane goes away, retries with backoff (not in a hot loop) and, when a
// control plane is back on the same address, re-syncs and applies what changed meanwhile.
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../../lib/model/index.js';
import { DiscoveryClient } from '../../../lib/control-client/discovery-client.js';
import { Compiler } from '../../../control/discovery/compile.js';
import { WatchService } from '../../../control/discovery/watch-service.js';
import { CertifyService } from '../../../control/identity/certify-service.js';
import { JwtTokenVerifier } from '../../../control/identity/tokens.js';
import { startControlServer, type ControlServer } from '../../../control/grpc-server.js';
import { namespace, pod, startTestControl, until, type TestControl } from '../../control/compile-fixtures.js';

let ctl: TestControl | undefined;
let client: DiscoveryClient | undefined;
let second: { server: ControlServer; watch: WatchService } | undefined;
afterEach(async () => {
  client?.close();
  second?.watch.close();
  await second?.server.close(1000);
  await ctl?.close();
  ctl = undefined;
  second = undefined;
});

describe('DiscoveryClient', () => {
  it('keeps its state while the control plane is gone, backs off, and re-syncs when it returns', async () => {
    ctl = await startTestControl([namespace('weft-system'), pod('agent-n1', { ns: 'weft-system', node: 'n1', sa: 'weft-node-agent', uid: 'a1' }), pod('a', { uid: 'ua' })]);
    const store = new StateStore();
    const tokenFile = await ctl.tokenFile({ namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: 'agent-n1', uid: 'a1' }, node: { name: 'n1' } });
    client = new DiscoveryClient({ address: ctl.address, caRootPem: ctl.caRootPem, node: 'n1', tokenFile, store, backoff: { initialMs: 100, maxMs: 400 } });
    const disconnects: number[] = [];
    client.on('disconnected', () => disconnects.push(Date.now()));
    client.start();
    await client.synced();
    expect(store.workloadByUid('ua')?.name).toBe('a');
    expect(store.trustBundle()?.roots).toEqual(ctl.ca.rootsPem);

    // The control plane goes away.
    const port = ctl.server.port;
    ctl.watch.close();
    ctl.server.server.forceShutdown();
    // Backoff, not a hot loop: from the third retry on the ceiling is 400 ms and a delay is at least half
    // its ceiling, so consecutive failures are at least 200 ms apart (a timer may fire a tick early).
    await until(() => disconnects.length >= 6, 'several reconnect attempts');
    const gaps = disconnects.slice(3, 6).map((t, i) => t - disconnects[i + 2]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(195);
    expect(store.workloadByUid('ua')?.name).toBe('a'); // last known state kept

    // Meanwhile the cluster changes; a control plane comes back on the same address.
    await ctl.cluster.write(pod('b', { uid: 'ub', ip: '10.244.1.50' }));
    await until(() => ctl!.cluster.source.list('Pod').length === 3, 'source saw pod b');
    const compiler = new Compiler(ctl.cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    const verifier = new JwtTokenVerifier({ publicKeys: ctl.publicKeyPem, audience: 'weft' });
    const watch = new WatchService({ source: ctl.cluster.source, compiler, verifier, controlNamespace: 'weft-system', debounceMs: 10 });
    watch.setTrustBundle({ trustDomain: 'cluster.local', roots: ctl.ca.rootsPem });
    watch.start();
    const certify = new CertifyService({ ca: () => ctl!.ca, verifier, source: ctl.cluster.source, controlNamespace: 'weft-system' });
    second = { server: await startControlServer({ listen: `127.0.0.1:${port}`, ca: ctl.ca, namespace: 'weft-system', certify, watch }), watch };
    await until(() => store.workloadByUid('ub') !== undefined, 'pod b after reconnect', 15_000);
    expect(store.workloadByUid('ua')?.name).toBe('a');
  });
});

