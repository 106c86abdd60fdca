// Pins which Prometheus `weft stat` and `weft edges` ask (issue 12 item 8: a command that targets a lab
// names it or finds exactly one): --prometheus as given; else the lab --lab names or the one lab running
// (said on stderr); several running and none named: refused with exit 2, listing them; none and no
// --prometheus: ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND, saying what to pass. A lab without a running
// Prometheus is named in the refusal. The failure it guards: silently asking some lab's Prometheus.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleCli, runWeft, type Bundle } from './cli-bundle.js';

let bundle: Bundle;
let dir: string;
let labs: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  bundle = await bundleCli('stat-choice');
  dir = await mkdtemp(join(tmpdir(), 'weft-t-stat-choice-'));
}, 180_000);
afterAll(async () => {
  await bundle?.cleanup();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  labs = await mkdtemp(join(dir, 'labs-'));
  env = { PATH: process.env.PATH, HOME: join(dir, 'home'), WEFT_LAB_ROOT: labs };
});

/** A lab's state directory as `weft lab up` leaves it, with a lab.json that records no Prometheus (a --no-mesh lab). */
async function addLab(name: string): Promise<void> {
  await mkdir(join(labs, name, 'cluster', 'manifests'), { recursive: true });
  await writeFile(join(labs, name, 'lab.json'), JSON.stringify({ name, nodes: [], createdAt: new Date().toISOString(), distDir: '/nonexistent', agent: false, control: false }));
}

describe('weft stat / weft edges choose their Prometheus', () => {
  it('no lab and no --prometheus: ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND, exit 1, saying to pass --prometheus', async () => {
    const r = await runWeft(bundle, ['stat', 'deployment'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND: no Prometheus to ask: no --prometheus given and no lab running under ${labs}`);
    expect(r.stderr).toContain('--prometheus http://127.0.0.1:9090');
    expect(r.stdout).toBe('');
  });

  it.each([['stat', 'deployment'], ['edges'], ['stat', 'route', '-o', 'json']])('weft %s with several labs refuses with exit 2 and lists them', async (...args) => {
    await addLab('a');
    await addLab('b');
    const r = await runWeft(bundle, args, { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERR_WEFT_CLI_LAB_AMBIGUOUS');
    expect(r.stderr).toContain('several labs are running (a, b)');
    expect(r.stderr).toContain('--lab a, --lab b');
    expect(r.stdout).toBe('');
  });

  it('the one running lab is used and said on stderr; one without Prometheus is refused by name', async () => {
    await addLab('a');
    const r = await runWeft(bundle, ['edges'], { env });
    expect(r.stderr).toContain('using the Prometheus of lab a, the only one running');
    expect(r.stderr).toContain('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING: lab a has no running Prometheus (none recorded in lab.json)');
    expect(r.code).toBe(1);
  });

  it('--lab names one of several; a lab that does not exist is ERR_WEFT_LAB_NOT_FOUND', async () => {
    await addLab('a');
    await addLab('b');
    const named = await runWeft(bundle, ['stat', 'ns', '--lab', 'b'], { env });
    expect(named.stderr).toContain('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING: lab b has no running Prometheus');
    expect(named.stderr).not.toContain('AMBIGUOUS');
    const missing = await runWeft(bundle, ['stat', 'ns', '--lab', 'zz'], { env });
    expect(missing.stderr).toContain('ERR_WEFT_LAB_NOT_FOUND');
  });

  it('--prometheus must be an http(s) base URL and excludes --lab (usage errors, exit 2)', async () => {
    for (const args of [['--prometheus', 'localhost:9090'], ['--prometheus', 'ftp://x/'], ['--prometheus', 'http://x/?q=1'], ['--prometheus', 'http://127.0.0.1:9090', '--lab', 'a']]) {
      const r = await runWeft(bundle, ['stat', 'deployment', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('ERR_WEFT_CLI_USAGE');
    }
  });
});
