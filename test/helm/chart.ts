/**
 * Real Helm for the chart tests: the binary `scripts/install-tools` builds into .tools/bin, run with
 * Helm's cache/config/data homes in a temp dir so that tests never touch the user's Helm state. Without the
 * binary each suite fails saying how to install it (scripts/install-tools, which scripts/setup runs), unless
 * WEFT_TEST_SKIP_TOOLS=1 opts out on purpose.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describeRequiring } from '../support/root.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CHART = join(ROOT, 'helm', 'weft');
export const HELM = join(ROOT, '.tools', 'bin', 'helm');
export const HA_VALUES = join(CHART, 'ci', 'ha-values.yaml');
export const EXTERNAL_CA_VALUES = join(CHART, 'ci', 'external-ca-values.yaml');

/** `describe` that needs the Helm binary; see root.ts for why a missing one fails instead of skipping. */
export function describeHelm(title: string, body: () => void): void {
  describeRequiring(existsSync(HELM), `${HELM} is missing: run scripts/install-tools`, 'WEFT_TEST_SKIP_TOOLS', title, body);
}

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string | undefined;

async function helmHome(): Promise<string> {
  home ??= await mkdtemp(join(tmpdir(), 'weft-t-helm-'));
  return home;
}

export async function cleanupHelmHome(): Promise<void> {
  if (home !== undefined) await rm(home, { recursive: true, force: true });
  home = undefined;
}

/**
 * Runs the real helm. `kubeconfig` is what a user's `export KUBECONFIG=…` gives it (default: a file that
 * does not exist, so that no test reaches the user's cluster); `cwd` where the user types it (relative
 * chart paths such as `./helm/weft` from the repository's root).
 */
export async function helm(args: readonly string[], o: { kubeconfig?: string; cwd?: string } = {}): Promise<HelmRun> {
  const h = await helmHome();
  const env = { ...process.env, HELM_CACHE_HOME: join(h, 'cache'), HELM_CONFIG_HOME: join(h, 'config'), HELM_DATA_HOME: join(h, 'data'), KUBECONFIG: o.kubeconfig ?? join(h, 'no-kubeconfig') };
  return new Promise((resolve) => {
    execFile(HELM, args, { env, cwd: o.cwd, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr: err !== null && stderr === '' ? err.message : stderr });
    });
  });
}

export interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** `helm template` (with CRDs) → parsed objects; throws with Helm's message when it fails. */
export async function render(extraArgs: readonly string[] = []): Promise<Rendered[]> {
  const r = await helm(['template', 'weft', CHART, '--namespace', 'weft-system', '--include-crds', ...extraArgs]);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: Rendered[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${d.errors[0]?.message ?? ''}`);
    const v = d.toJS() as Rendered | null;
    if (v !== null) out.push(v);
  }
  return out;
}

export function find(objs: readonly Rendered[], kind: string, name: string): Rendered {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`rendered chart has no ${kind} ${name} (has: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
  return o;
}
