// Pins the in-pod capture end to end at the packet level: with the `weft` table installed, a pod's
// outbound TCP lands on 15001 with its original destination readable, inbound plaintext lands on 15006,
// a transparent connect from the agent reaches the app with the real client IP (connmark + ip rule
// recipe), kubelet-style probes from the node bypass capture, and install/remove are idempotent.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Socket} from 'node:net';
import { type Server } from 'node:net';
import { nativeNetns } from '../../node-agent/netns/native.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { captureInstalled, installCapture, removeCapture, defaultGateway } from '../../node-agent/enroll/capture.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const fdOf = (s: Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

/** A forwarder like the agent's: read the original destination, connect from `factory`. */
function forward(server: Server, factory: NetnsSocketFactory, transparent: boolean, seen: { address: string; port: number }[]): void {
  server.on('connection', (down: Socket) => {
    const dst = nativeNetns().originalDst(fdOf(down));
    seen.push(dst);
    const up = factory.connect(dst.address, dst.port, transparent ? { sourceAddress: down.remoteAddress! } : {});
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    down.pipe(up).pipe(down);
  });
}

describeRoot('node-agent capture rules (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet;
  let b: PodNet;
  let c: PodNet;
  const servers: Server[] = [];
  const outboundSeen: { address: string; port: number }[] = [];
  const inboundSeen: { address: string; port: number }[] = [];

  beforeAll(async () => {
    await sb.up();
    [a, b, c] = [await sb.pod('a'), await sb.pod('b'), await sb.pod('c')];
    // The app in B answers with the peer address it saw.
    const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => s.end(`peer=${s.remoteAddress}\n`));
    servers.push(app);
    const outA = await new NetnsSocketFactory(a.path).listen('0.0.0.0', 15001);
    forward(outA, new NetnsSocketFactory(a.path), false, outboundSeen);
    const inB = await new NetnsSocketFactory(b.path).listen('0.0.0.0', 15006);
    forward(inB, new NetnsSocketFactory(b.path), true, inboundSeen);
    servers.push(outA, inB);
    for (const p of [a, b]) {
      const gw = await defaultGateway(p.path);
      expect(gw).toBe(sb.gateway);
      await installCapture({ netns: p.path, probeSources: [gw!] }, p.ns);
    }
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await sb.destroy();
  });

  const curlRaw = (ns: string, ip: string): Promise<string> =>
    sb.run(ns, 'bash', ['-c', `exec 3<>/dev/tcp/${ip}/8080; cat <&3`]);

  it('redirects outbound to 15001 and inbound to 15006, and the app sees the real client IP', async () => {
    expect(await curlRaw(a.ns, b.ip)).toBe(`peer=${a.ip}\n`);
    expect(outboundSeen).toContainEqual({ address: b.ip, port: 8080 });
    expect(inboundSeen).toContainEqual({ address: b.ip, port: 8080 });
  });

  it('captures inbound from an uncaptured pod and keeps its IP', async () => {
    const before = inboundSeen.length;
    expect(await curlRaw(c.ns, b.ip)).toBe(`peer=${c.ip}\n`);
    expect(inboundSeen.length).toBe(before + 1);
  });

  it('lets probes from the node through untouched', async () => {
    const before = inboundSeen.length;
    expect(await curlRaw(sb.nodeNs, b.ip)).toBe(`peer=${sb.gateway}\n`);
    expect(inboundSeen.length).toBe(before);
  });

  it('is idempotent and removable', async () => {
    await installCapture({ netns: b.path, probeSources: [sb.gateway] }, b.ns);
    expect(await sb.run(b.ns, 'sh', ['-c', 'ip rule show | grep -c "fwmark 0x111/0xfff"'])).toBe('1\n');
    expect(await captureInstalled(b.path)).toBe(true);
    await removeCapture(b.path, b.ns);
    await removeCapture(b.path, b.ns);
    expect(await captureInstalled(b.path)).toBe(false);
    // Released: C reaches the app directly now.
    const before = inboundSeen.length;
    expect(await curlRaw(c.ns, b.ip)).toBe(`peer=${c.ip}\n`);
    expect(inboundSeen.length).toBe(before);
    await removeCapture('/var/run/netns/weft-does-not-exist', 'gone');
  });
});
