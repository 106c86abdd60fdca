import { spawn } from 'node:child_process';
import { inNetns } from '../../lab/netns.js';
import { INSPECTOR, type BenchLab } from './bench-lab.js';

/**
 * Runs inspector.js in a node's namespace against that node's agent (whose inspector main.ts opened
 * with SIGUSR1). `inspect` runs one mode to completion; `startCpuProfile` resolves once the profiler
 * runs and hands back a `stop()` that ends it and yields the summary.
 */
export async function inspect(lab: BenchLab, node: string, args: string[], timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const r = await lab.execInNode(node, [process.execPath, INSPECTOR, ...args], timeoutMs);
  if (r.code !== 0) throw new Error(`inspector ${args.join(' ')} on ${node} failed: ${r.stderr.trim().slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

export function startCpuProfile(lab: BenchLab, node: string, top = 12): Promise<{ stop(): Promise<Record<string, unknown>> }> {
  return startCpuProfileIn(lab.nodeNetns(node), node, top);
}

/** startCpuProfile for the agent of the node whose network namespace is `netns` (other benches' labs). */
export function startCpuProfileIn(netns: string, node: string, top = 12): Promise<{ stop(): Promise<Record<string, unknown>> }> {
  const [cmd, ...args] = inNetns(netns, [process.execPath, INSPECTOR, 'cpu', '--top', String(top)]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`cpu profile of ${node} failed (${code}): ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cpu profile of ${node} did not start in 30 s: ${err.trim()}`));
    }, 30_000);
    let started = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!started && out.includes('STARTED\n')) {
        started = true;
        clearTimeout(timer);
        resolve({
          stop: () => {
            child.stdin.end();
            const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
            return done.finally(() => clearTimeout(kill));
          },
        });
      }
    });
    done.catch(reject);
  });
}
