// Failure: NOTES.txt told users to run `weft check`, which looks in weft-system: installed into any other
// namespace, the first command after install reported weft missing. Pins: every command NOTES.txt prints
// names the release namespace where it needs one, every `weft` command in it parses with the CLI, and
// every kubectl/helm command uses flags the tools have.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fillPlaceholders, shellWords, toolRefuses, weftArgs, weftRefuses } from '../cli/weft-command.js';
import { CHART, cleanupHelmHome, describeHelm, helm } from './chart.js';

async function notes(namespace: string, ...set: string[]): Promise<string> {
  const r = await helm(['install', 'mesh-rel', CHART, '--namespace', namespace, '--dry-run=client', ...set.flatMap((s) => ['--set', s])]);
  expect(r.code, r.stderr).toBe(0);
  const at = r.stdout.indexOf('NOTES:');
  expect(at).toBeGreaterThanOrEqual(0);
  return r.stdout.slice(at);
}

/** The commands NOTES.txt prints: indented lines that start with a program name. */
const commandLines = (text: string): string[] => text.split('\n').filter((l) => /^\s+(weft|kubectl|helm) /.test(l)).map((l) => l.trim());

describeHelm('NOTES.txt', () => {
  afterAll(cleanupHelmHome);

  it('names the release namespace in the commands that need it', async () => {
    const text = await notes('mesh');
    const lines = commandLines(text);
    expect(lines).toContain('weft check -n mesh');
    const weftCheck = lines.filter((l) => l.startsWith('weft check') || l.startsWith('weft version'));
    expect(weftCheck.length).toBeGreaterThan(0);
    for (const l of weftCheck) expect(l).toContain('-n mesh');
    for (const l of lines.filter((x) => x.startsWith('helm '))) expect(l).toMatch(/mesh-rel .* -n mesh /);
    expect(text).not.toContain('weft-system');
  });

  it('every weft command in it runs as printed', async () => {
    const lines = commandLines(await notes('mesh')).filter((l) => l.startsWith('weft '));
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(await weftRefuses(weftArgs(l) ?? []), l).toBeUndefined();
  });

  it('every kubectl and helm command in it uses flags that exist', async () => {
    const home = await mkdtemp(join(tmpdir(), 'weft-t-notes-tools-'));
    try {
      const lines = commandLines(await notes('mesh')).filter((l) => !l.startsWith('weft '));
      expect(lines.length).toBeGreaterThan(2);
      for (const l of lines) expect(await toolRefuses(shellWords(fillPlaceholders(l)), home), l).toBeUndefined();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
