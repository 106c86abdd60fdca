// Pins that weft-cni starts no language runtime: its start-up is added to every pod's creation, and
// starting Node for the old TypeScript plugin cost ~44 ms of a 75 ms ADD (issue #14). The shipped plugin
// is a static ELF executable (no interpreter: it runs on the node's own libc, whatever it is), and an ADD
// through the agent runs in that one process: no exec of anything else, no child process.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble } from './agent-double.js';
import { pluginBinFor, podEnv, weftConfig } from './run-plugin.js';

// The shipped build, also under WEFT_CNI_PLUGIN=asan: the sanitizer runtime starts threads of its own,
// and LeakSanitizer cannot run under strace.
const RELEASE = pluginBinFor('native');
const PT_INTERP = 3;

/** The program header types of a 64-bit little-endian ELF file. */
function programHeaderTypes(file: Buffer): number[] {
  expect(file.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(file[4], 'ELFCLASS64').toBe(2);
  const phoff = Number(file.readBigUInt64LE(0x20));
  const phentsize = file.readUInt16LE(0x36);
  const phnum = file.readUInt16LE(0x38);
  return Array.from({ length: phnum }, (_, i) => file.readUInt32LE(phoff + i * phentsize));
}

describe('weft-cni start-up', () => {
  let agent: AgentDouble;
  let dir: string;
  beforeAll(async () => {
    agent = await startAgentDouble();
    dir = tempDir('lean');
  });
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the release plugin is a static executable, not a script or a runtime', () => {
    const file = readFileSync(RELEASE);
    const types = programHeaderTypes(file);
    expect(types.length).toBeGreaterThan(0);
    expect(types).not.toContain(PT_INTERP);
    expect(file.length).toBeLessThan(4 * 1024 * 1024);
    expect(file.includes('NODE_SEA_BLOB')).toBe(false);
  });

  it.runIf(existsSync('/usr/bin/strace'))('ADD through the agent runs in one process: one execve, no child', async () => {
    const trace = join(dir, 'trace');
    const env = { PATH: process.env.PATH ?? '', ...podEnv('ADD') };
    // Asynchronous: the agent double answers from this process's event loop.
    const child = spawn('/usr/bin/strace', ['-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork,connect', '-o', trace, RELEASE], { env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    child.stdin.end(JSON.stringify(weftConfig({ cni_socket: agent.socket })));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(status, stderr).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(lines.filter((l) => /\bexecve\(/.test(l)), lines.join('\n')).toHaveLength(1);
    expect(lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l)), lines.join('\n')).toEqual([]);
    expect(lines.filter((l) => /\bconnect\(/.test(l) && l.includes(agent.socket))).toHaveLength(1);
  });
});
