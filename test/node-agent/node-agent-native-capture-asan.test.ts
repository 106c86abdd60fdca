// The node agent's netlink capture code (node-agent/native/capture*.c, nl_msg.c, netns_enter.c) built
// with AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer around a small C driver
// (test/node-agent/native/capture-harness.c), as test/cni does for weft-cni (capture_gateway.c too): every
// message is built into
// buffers of each size up to the one it needs (a write past the end is a sanitizer report, a short
// buffer must be refused), then real installs into a fresh pod namespace, repeated and with hostile
// input. Any out-of-bounds access, leak or undefined behaviour fails with the sanitizer's report.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const exec = promisify(execFile);
const NATIVE = fileURLToPath(new URL('../../node-agent/native/', import.meta.url));
const HARNESS = fileURLToPath(new URL('./native/capture-harness.c', import.meta.url));
const SOURCES = ['capture.c', 'capture_nft.c', 'capture_route.c', 'capture_gateway.c', 'nl_msg.c', 'netns_enter.c'].map((f) => join(NATIVE, f));
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/;

describeRoot('node-agent netlink capture under AddressSanitizer, LeakSanitizer and UBSan (needs root: network namespaces)', () => {
  const sb = new NetnsSandbox();
  let dir: string;
  let bin: string;
  let pod: PodNet;

  const harness = async (...args: string[]): Promise<string> => {
    const { stdout, stderr } = await exec(bin, args, { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' } }).catch((err: { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`capture-harness ${args.join(' ')} exited ${err.code}: ${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(stderr).not.toMatch(SANITIZER_REPORT);
    return stdout.trim();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-capture-asan-'));
    bin = join(dir, 'capture-harness');
    const flags = ['-std=gnu11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wvla', '-O1', '-g', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all'];
    await exec(process.env.CC ?? 'gcc', [...flags, '-I', NATIVE, ...SOURCES, HARNESS, '-o', bin]);
    await sb.up();
    pod = await sb.pod('asan');
  }, 120_000);
  afterAll(async () => {
    await sb.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every message is refused in a buffer too short for it and byte-identical in one that fits', async () => {
    const out = await harness('bounds');
    expect(out).toMatch(/^nft batch: \d+ bytes, every shorter buffer refused\nroute messages: \d+ bytes, every shorter buffer refused$/);
  }, 120_000);

  it('installs into a pod namespace, again and again, leaving one table and one policy rule', async () => {
    for (let i = 0; i < 3; i++) expect(await harness('install', pod.path, sb.gateway, 'fd00::1')).toBe('ok');
    const tables = await sb.run(pod.ns, 'nft', ['list', 'tables']);
    expect(tables.trim()).toBe('table inet weft');
    const rules = (await sb.run(pod.ns, 'ip', ['rule', 'show'])).split('\n').filter((l) => l.includes('fwmark 0x111/0xfff lookup 100'));
    expect(rules).toEqual(['32764:\tfrom all fwmark 0x111/0xfff lookup 100']);
    expect((await sb.run(pod.ns, 'ip', ['route', 'show', 'table', '100'])).trim()).toBe('local default dev lo scope host');
    expect(await sb.run(pod.ns, 'nft', ['list', 'table', 'inet', 'weft'])).toContain(`ip saddr ${sb.gateway} return`);
  }, 60_000);

  it('reads the default gateway by a route dump: the pod\'s, none in a namespace without one, an errno for no namespace', async () => {
    expect(await harness('gateway', pod.path)).toBe(sb.gateway);
    expect(await harness('gateway', `/var/run/netns/${sb.nodeNs}`)).toBe('none');
    expect(await harness('gateway', join(dir, 'no-such-netns'))).toBe('error setns ENOENT');
    expect(await harness('gateway', '')).toBe('error arguments EINVAL');
  }, 60_000);

  it('refuses hostile input with an errno, never touching the caller’s own namespace', async () => {
    expect(await harness('install', join(dir, 'no-such-netns'))).toBe('error setns ENOENT');
    expect(await harness('install', '')).toBe('error netns path EINVAL');
    expect(await harness('install', dir)).toBe('error setns EINVAL'); // a directory, not a namespace
    expect(await harness('install', pod.path, 'not-an-address')).toBe('error inet_pton EINVAL');
    expect(await harness('install', pod.path, `10.0.0.1${'9'.repeat(5000)}`)).toBe('error inet_pton EINVAL');
    const nine = Array.from({ length: 9 }, (_, i) => `10.9.0.${i + 1}`);
    expect(await harness('install', pod.path, ...nine)).toBe('error probe sources E2BIG');
    // Eight of each family is the most, and fits.
    const eight6 = Array.from({ length: 8 }, (_, i) => `fd00::${i + 1}`);
    expect(await harness('install', pod.path, ...nine.slice(0, 8), ...eight6)).toBe('ok');
  }, 60_000);
});
