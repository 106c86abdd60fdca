import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';
import { packageRoot } from '../../lib/package-root.js';

/**
 * Helm, found as WEFT_HELM, then the copy `scripts/install-tools` puts in .tools/bin, then `helm` on PATH.
 * The chart ships in the package (helm/weft).
 */
export function findHelm(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.WEFT_HELM, join(packageRoot(), '.tools', 'bin', 'helm'), ...(env.PATH ?? '').split(delimiter).filter((p) => p !== '').map((p) => join(p, 'helm'))].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // try the next
    }
  }
  throw new WeftError('ERR_WEFT_CLI_HELM_NOT_FOUND', { paths: candidates.slice(0, 3).join(', ') + (candidates.length > 3 ? ', PATH' : '') });
}

export function defaultChartDir(): string {
  return join(packageRoot(), 'helm', 'weft');
}

export function checkChartDir(dir: string): string {
  if (!existsSync(join(dir, 'Chart.yaml'))) throw new WeftError('ERR_WEFT_CLI_CHART_NOT_FOUND', { path: dir });
  return dir;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs helm; a non-zero exit becomes ERR_WEFT_CLI_HELM_FAILED carrying helm's own message. */
export function runHelm(helm: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; inheritOutput?: boolean } = {}): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new WeftError('ERR_WEFT_CLI_HELM_FAILED', { args: args.join(' '), code: -1, stderr: e.message }, { cause: e })));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new WeftError('ERR_WEFT_CLI_HELM_FAILED', { args: args.join(' '), code: code ?? -1, stderr: stderr.trim() }));
    });
  });
}
