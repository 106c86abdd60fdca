// Pins the native addon's contract: sockets are created inside the named network namespace (and the
// caller stays in its own), SO_MARK and IP_TRANSPARENT take effect, SO_ORIGINAL_DST returns the
// pre-REDIRECT destination, and failures surface as exceptions carrying the errno name.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { once } from 'node:events';
import { Socket, type Server, type AddressInfo } from 'node:net';
import { nativeNetns } from '../../node-agent/netns/native.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

function fdOf(socket: Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

async function accepted(server: Server): Promise<Socket> {
  const [socket] = (await once(server, 'connection')) as [Socket];
  return socket;
}

async function connected(socket: Socket): Promise<void> {
  await Promise.race([
    once(socket, 'connect'),
    once(socket, 'error').then(([e]) => {
      throw e as Error;
    }),
  ]);
}

describeRoot('node-agent native addon (needs root: network namespaces)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet;
  let b: PodNet;
  const servers: Server[] = [];

  beforeAll(async () => {
    await sb.up();
    a = await sb.pod('a');
    b = await sb.pod('b');
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await sb.destroy();
  });

  it('listens inside the pod netns and connects from another one', async () => {
    const server = await new NetnsSocketFactory(b.path).listen('0.0.0.0', 7001);
    servers.push(server);
    const client = new NetnsSocketFactory(a.path, 0).connect(b.ip, 7001);
    const [peer] = await Promise.all([accepted(server), connected(client)]);
    expect(peer.remoteAddress).toBe(a.ip);
    expect(peer.localAddress).toBe(b.ip);
    client.destroy();
    peer.destroy();
    // The test process itself never left its namespace: the pod's address is not local here.
    expect(() => nativeNetns().connectSocketInNetns('', { bindAddress: b.ip })).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL' }),
    );
  });

  it('sets SO_MARK: only the marked socket passes a mark-filtering rule', async () => {
    await sb.run(a.ns, 'nft', ['-f', '-'], `table ip marktest { chain out { type filter hook output priority 0; tcp dport 7002 meta mark & 0xfff != 0x539 reject with tcp reset; }; }`);
    const server = await new NetnsSocketFactory(b.path).listen('0.0.0.0', 7002);
    servers.push(server);
    const unmarked = new NetnsSocketFactory(a.path, 0).connect(b.ip, 7002);
    await expect(connected(unmarked)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const marked = new NetnsSocketFactory(a.path).connect(b.ip, 7002);
    const [peer] = await Promise.all([accepted(server), connected(marked)]);
    marked.destroy();
    peer.destroy();
  });

  it('binds a foreign source address only with IP_TRANSPARENT, and the server sees it', async () => {
    const spoof = '10.99.9.9';
    // Replies to the spoofed address must come back to this namespace (the capture rules do this with
    // connmark; here a plain policy route is enough).
    await sb.run(b.ns, 'ip', ['rule', 'add', 'to', spoof, 'lookup', '100']);
    await sb.run(b.ns, 'ip', ['route', 'add', 'local', `${spoof}/32`, 'dev', 'lo', 'table', '100']);
    expect(() => nativeNetns().connectSocketInNetns(b.path, { bindAddress: spoof })).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL', syscall: 'bind' }),
    );
    const server = await new NetnsSocketFactory(b.path).listen('0.0.0.0', 7003);
    servers.push(server);
    const client = new NetnsSocketFactory(b.path).connect(b.ip, 7003, { sourceAddress: spoof });
    const [peer] = await Promise.all([accepted(server), connected(client)]);
    expect(peer.remoteAddress).toBe(spoof);
    client.destroy();
    peer.destroy();
  });

  it('reads the original destination of a REDIRECTed connection', async () => {
    await sb.run(a.ns, 'nft', ['-f', '-'], `table ip redir { chain out { type nat hook output priority -100; tcp dport 7777 redirect to :15001; }; }`);
    const server = await new NetnsSocketFactory(a.path).listen('0.0.0.0', 15001);
    servers.push(server);
    const client = new NetnsSocketFactory(a.path, 0).connect(b.ip, 7777);
    const [peer] = await Promise.all([accepted(server), connected(client)]);
    expect(peer.localPort).toBe(15001);
    expect(nativeNetns().originalDst(fdOf(peer))).toEqual({ address: b.ip, port: 7777 });
    client.destroy();
    peer.destroy();
  });

  it('throws errno-named errors and allows SO_REUSEPORT twins', async () => {
    const n = nativeNetns();
    expect(() => n.listenInNetns('/nonexistent/netns', '0.0.0.0', 7004)).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'setns' }),
    );
    expect(() => n.listenInNetns(a.path, 'not-an-ip', 7004)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const fd1 = n.listenInNetns(a.path, '0.0.0.0', 7005, { reusePort: false });
    expect(() => n.listenInNetns(a.path, '0.0.0.0', 7005, { reusePort: false })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }),
    );
    const f = new NetnsSocketFactory(a.path);
    const s1 = await f.listen('0.0.0.0', 7006);
    const s2 = await f.listen('0.0.0.0', 7006);
    servers.push(s1, s2);
    expect((s2.address() as AddressInfo).port).toBe(7006);
    expect(() => n.originalDst(fd1)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    new Socket({ fd: fd1 }).destroy();
  });
  it('refuses a string that does not fit instead of cutting it, and a malformed capture spec', () => {
    const n = nativeNetns();
    const refused = (fn: () => unknown): void => expect(fn).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const long = `${a.path}${'/x'.repeat(3000)}`; // a cut path would name another file
    refused(() => n.listenInNetns(long, '0.0.0.0', 7007));
    const spec = { table: 'weft', agentMark: 0x539, markMask: 0xfff, connmark: 0x111, routeTable: 100, rulePref: 32764, outboundPort: 15001, inboundPort: 15006, hbonePort: 15008, probeSources: [] };
    refused(() => n.installCapture(long, spec));
    refused(() => n.installCapture('', spec)); // never the agent's own namespace
    refused(() => n.installCapture(a.path, { ...spec, hbonePort: 70_000 }));
    refused(() => n.installCapture(a.path, { ...spec, table: 'x'.repeat(40) }));
    refused(() => n.installCapture(a.path, { ...spec, probeSources: ['10.0.0.1'.repeat(20)] }));
    refused(() => n.installCapture(a.path, { ...spec, probeSources: 'nope' } as never));
  });
});
