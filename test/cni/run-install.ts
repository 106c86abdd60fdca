// Runs install-cni (dist/cni/install.js) as the DaemonSet container would, against temp CNI dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './agent-double.js';
import { PLUGIN_BIN } from './run-plugin.js';
import { eventually } from '../support/eventually.js';

export const INSTALL_JS = fileURLToPath(new URL('../../dist/cni/install.js', import.meta.url));

export interface NodeDirs {
  readonly root: string;
  readonly confDir: string;
  readonly binDir: string;
}

export function nodeDirs(tag: string): NodeDirs {
  const root = tempDir(tag);
  const confDir = join(root, 'net.d');
  const binDir = join(root, 'bin');
  mkdirSync(confDir);
  mkdirSync(binDir);
  return { root, confDir, binDir };
}

export function installArgs(d: NodeDirs, extra: string[] = []): string[] {
  return ['--cni-conf-dir', d.confDir, '--cni-bin-dir', d.binDir, '--plugin-path', PLUGIN_BIN, '--log-level', 'debug', ...extra];
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runInstall(args: string[], timeoutMs = 30_000): Promise<Finished> {
  const child = spawn(process.execPath, [INSTALL_JS, ...args], { env: { PATH: process.env.PATH ?? '' } });
  return finished(child, timeoutMs);
}

export function startInstall(args: string[]): { child: ChildProcess; done: Promise<Finished>; output: () => string } {
  const child = spawn(process.execPath, [INSTALL_JS, ...args], { env: { PATH: process.env.PATH ?? '' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { child, done: finished(child, 120_000), output: () => out };
}

function finished(child: ChildProcess, timeoutMs: number): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `eventually` with the argument order these tests use. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  await eventually(check, timeoutMs, what);
}
