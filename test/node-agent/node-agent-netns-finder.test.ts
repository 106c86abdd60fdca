// Pins how the node agent finds the netns of a pod it has no netns path for (it ran before weft, or the
// state file was lost): from the host procfs, by the pod IP among each namespace's LOCAL addresses
// (fib_trie / if_inet6), entered through /proc/<pid>/ns/net of the namespace's oldest process. A wrong
// parse, a wrong process or a wrong namespace would capture the wrong pod or none.
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../../lib/errors/index.js';
import { NetnsFinder, normalise, parseFibTrieLocal, parseIfInet6 } from '../../node-agent/enroll/netns-finder.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.244.1.0/24 2 0 2
        +-- 10.244.1.0/28 2 0 2
           |-- 10.244.1.0
              /24 link UNICAST
           |-- 10.244.1.7
              /32 host LOCAL
        |-- 10.244.1.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.1
           /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.244.1.7
        /32 host LOCAL
     |-- 10.244.1.9
        /32 host LOCAL
`;

const IF_INET6 = `00000000000000000000000000000001 01 80 10 80       lo
fd000000000000000000000000000005 02 40 00 80     eth0
fe80000000000000a8bbccfffe001122 02 40 20 80     eth0
`;

describe('netns finder parsing', () => {
  it('reads only LOCAL host addresses from fib_trie, once each, without loopback', () => {
    expect(parseFibTrieLocal(FIB_TRIE).sort()).toEqual(['10.244.1.7', '10.244.1.9']);
    expect(parseFibTrieLocal('')).toEqual([]);
  });

  it('reads if_inet6 addresses normalised, without loopback', () => {
    expect(parseIfInet6(IF_INET6)).toEqual(['fd00:0:0:0:0:0:0:5', 'fe80:0:0:0:a8bb:ccff:fe00:1122']);
  });

  it('normalises IPv6 spellings to one form and rejects non-addresses', () => {
    expect(normalise('FD00::5')).toBe('fd00:0:0:0:0:0:0:5');
    expect(normalise('fd00:0000::0005')).toBe('fd00:0:0:0:0:0:0:5');
    expect(normalise('::ffff:10.0.0.1')).toBe('0:0:0:0:0:ffff:a00:1');
    expect(normalise('10.1.2.3')).toBe('10.1.2.3');
    expect(normalise('pod-a')).toBeUndefined();
  });
});

describeRoot('netns finder over the real procfs (needs root: network namespaces)', () => {
  const sb = new NetnsSandbox();
  let pod: PodNet;
  let other: PodNet;
  let firstPid: number;

  beforeAll(async () => {
    await sb.up();
    pod = await sb.pod('pod');
    other = await sb.pod('other');
    await sb.run(pod.ns, 'ip', ['-6', 'addr', 'add', 'fd00:77::5/64', 'dev', 'eth0', 'nodad']);
    // The pod's "app" first, then a later exec into the same pod: the app is the path to keep.
    const app = sb.spawn(pod.ns, 'sleep', ['120']);
    await sb.running(app, pod.path, 'sleep');
    const exec = sb.spawn(pod.ns, 'sleep', ['120']);
    const elsewhere = sb.spawn(other.ns, 'sleep', ['120']);
    firstPid = app.pid!;
    await sb.running(exec, pod.path, 'sleep');
    await sb.running(elsewhere, other.path, 'sleep');
  });
  afterAll(async () => {
    await sb.destroy();
  });

  it('finds the pod netns by its IPv4 address, through its oldest process', async () => {
    const finder = new NetnsFinder({ hostProc: '/proc' });
    const found = await finder.find([pod.ip]);
    expect(found!.inode).toBe((await stat(pod.path)).ino);
    expect((await stat(found!.path)).ino).toBe((await stat(pod.path)).ino);
    // `ip netns exec` execs the command in place, so the spawned pid is the sleeping process.
    expect(found!.path).toBe(`/proc/${firstPid}/ns/net`);
    expect(found!.addresses).toContain(pod.ip);
    const found2 = await finder.find([other.ip]);
    expect(found2!.inode).toBe((await stat(other.path)).ino);
  });

  it('finds it by an IPv6 address in any spelling', async () => {
    const finder = new NetnsFinder({ hostProc: '/proc' });
    const found = await finder.find(['FD00:77:0::5']);
    expect(found?.inode).toBe((await stat(pod.path)).ino);
  });

  it('answers undefined for an address no namespace holds, and skips non-addresses', async () => {
    const finder = new NetnsFinder({ hostProc: '/proc' });
    expect(await finder.find(['10.88.0.250'])).toBeUndefined();
    expect(await finder.find(['not-an-ip'])).toBeUndefined();
  });

  it('serves concurrent lookups from one scan and caches it', async () => {
    const finder = new NetnsFinder({ hostProc: '/proc', cacheMs: 60_000 });
    const [a, b] = await Promise.all([finder.find([pod.ip]), finder.find([other.ip])]);
    expect(a?.inode).not.toBe(b?.inode);
    // A namespace made after the cached scan is not seen until the cache expires.
    const late = await sb.pod('late');
    await sb.running(sb.spawn(late.ns, 'sleep', ['120']), late.path, 'sleep');
    expect(await finder.find([late.ip])).toBeUndefined();
    const fresh = new NetnsFinder({ hostProc: '/proc', cacheMs: 0 });
    expect((await fresh.find([late.ip]))?.inode).toBe((await stat(late.path)).ino);
  });

  it('tells whether a recorded /proc path still leads to the pod (its pid may have been reused)', async () => {
    const finder = new NetnsFinder({ hostProc: '/proc' });
    const found = await finder.find([pod.ip]);
    expect(await finder.stillHolds(found!.path, [pod.ip])).toBe(true);
    expect(await finder.stillHolds(found!.path, [other.ip])).toBe(false);
    expect(await finder.stillHolds('/proc/999999999/ns/net', [pod.ip])).toBe(false);
    // Paths that are not the finder's (a runtime's /var/run/netns/...) are not judged.
    expect(await finder.stillHolds(pod.path, [other.ip])).toBe(true);
  });

  it('fails with ERR_WEFT_AGENT_HOST_PROC when the host procfs is not there', async () => {
    const finder = new NetnsFinder({ hostProc: `/nonexistent-${sb.prefix}proc` });
    const err = await finder.find([pod.ip]).catch((e: unknown) => e);
    expect(isWeftError(err) && err.code).toBe('ERR_WEFT_AGENT_HOST_PROC');
  });
});
