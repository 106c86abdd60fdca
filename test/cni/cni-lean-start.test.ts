// Pins what the shipped weft-cni bundle (the code of the single executable) loads at start, since its
// start-up is added to every pod's creation: VERSION (and any command that does not reach the agent)
// loads none of node's net/stream/tty/http modules, and ADD loads `net` for the agent socket but not
// `http` (measured: each of these costs ~10 ms of a ~80 ms plugin start here). A new static import of
// such a module fails this test. (`node dist/cni/plugin.js` loads streams anyway: node's ESM loader.)
// The plugin gets its stdin as containerd and CRI-O give it (libcni runs plugins with Go's os/exec): a
// pipe, written and closed. (Node's own 'pipe' stdio is a socketpair, which the plugin reads through
// process.stdin and so `net`; see cni/plugin/stdin.ts.)
import { closeSync, constants, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { startAgentDouble, tempDir, type AgentDouble } from './agent-double.js';
import { podEnv, weftConfig } from './run-plugin.js';

const BUILD = fileURLToPath(new URL('../../scripts/build-cni.mjs', import.meta.url));
let bundle = '';
let dir = '';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A pipe (FIFO) holding `text` whose writer is already closed: the read end, to pass as the child's stdin. */
function closedPipeWith(text: string): number {
  const fifo = join(dir, `stdin-${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  // O_RDWR opens a FIFO without waiting for a reader (Linux); the read end then opens at once.
  const writer = openSync(fifo, constants.O_RDWR);
  const reader = openSync(fifo, constants.O_RDONLY);
  rmSync(fifo);
  writeSync(writer, text);
  closeSync(writer);
  return reader;
}

/** Runs the plugin with a preload that prints the built-in modules loaded after start-up to fd 3. */
function loadedModules(preload: string, env: Record<string, string>, stdin: string): Promise<{ code: number | null; reported: boolean; modules: string[] }> {
  const input = closedPipeWith(stdin);
  const child = spawn(process.execPath, ['--require', preload, bundle], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: [input, 'pipe', 'pipe', 'pipe'] });
  closeSync(input);
  let report = '';
  child.stdio[3]!.on('data', (d: Buffer) => (report += d.toString('utf8')));
  child.stdout!.resume();
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, reported: report.startsWith('#end\n'), modules: report.split('\n').filter((m) => m !== '' && m !== '#end') }));
  });
}

describe('weft-cni start-up loads only what the command needs', () => {
  let preload: string;
  let agent: AgentDouble;
  beforeAll(async () => {
    dir = tempDir('lean');
    preload = join(dir, 'modules.cjs');
    writeFileSync(
      preload,
      `const before = new Set(process.moduleLoadList);
process.on('exit', () => {
  const added = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));
  require('fs').writeSync(3, ['#end', ...added].join('\\n') + '\\n');
});\n`,
    );
    agent = await startAgentDouble();
    execFileSync(process.execPath, [BUILD, '--out', dir, '--no-sea'], { stdio: 'pipe' });
    bundle = join(dir, 'weft-cni.cjs');
  }, 60_000);
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('VERSION and a refused config load no networking or stream module', async () => {
    for (const [env, stdin] of [
      [{ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}'],
      [podEnv('ADD'), '{not json'],
    ] as const) {
      const run = await loadedModules(preload, env, stdin);
      expect(run.reported, 'the preload reported').toBe(true);
      for (const heavy of ['net', 'stream', 'tty', 'http', '_http_client']) expect(run.modules).not.toContain(heavy);
    }
  });

  it('ADD loads net for the agent socket, not http', async () => {
    const run = await loadedModules(preload, podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    expect(run.code).toBe(0);
    expect(run.modules).toContain('net');
    expect(run.modules).not.toContain('http');
    expect(run.modules).not.toContain('_http_client');
  });
});
