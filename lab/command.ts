import { spawn } from 'node:child_process';
import { WeftError } from '../lib/errors/index.js';

export interface RunOptions {
  /** Written to the command's stdin (then closed). */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Exit codes that count as success besides 0 (e.g. `ip netns del` of a missing namespace). */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program (never through a shell: arguments come from manifests) and collects its output. A
 * non-zero exit is a typed error naming the command, unless `allowFailure` asks for the result instead.
 */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: 'run() without a command' });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the program may exit before reading its input
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new WeftError('ERR_WEFT_LAB_COMMAND_FAILED', { command: argv.join(' '), code: -1, stderr: e.message }, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = {
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code === 0 || options.allowFailure) resolve(result);
      else
        reject(
          new WeftError('ERR_WEFT_LAB_COMMAND_FAILED', {
            command: argv.join(' '),
            code: result.code,
            stderr: (result.stderr.trim() || result.stdout.trim()).slice(0, 500),
          }),
        );
    });
    // A program that exits without reading its input (a CNI plugin refusing early) fails the write with
    // EPIPE; its exit status reports the failure, so the stream error must not crash the kubelet.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
