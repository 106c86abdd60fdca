import { WeftError } from '../lib/errors/index.js';

/**
 * Progress for waits: a spinner rewritten in place on a TTY, otherwise one line when the wait starts and
 * one when it ends (CI logs stay readable).
 */
export interface Progress {
  update(text: string): void;
  done(text: string): void;
  fail(text: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function startProgress(text: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true) {
    stream.write(`… ${text}\n`);
    return {
      update: () => undefined,
      done: (t) => void stream.write(`✔ ${t}\n`),
      fail: (t) => void stream.write(`✖ ${t}\n`),
    };
  }
  let current = text;
  let frame = 0;
  const draw = (): void => void stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length] ?? ''} ${current}`);
  draw();
  const timer = setInterval(draw, 100);
  const finish = (mark: string, t: string): void => {
    clearInterval(timer);
    stream.write(`\r\x1b[2K${mark} ${t}\n`);
  };
  return {
    update: (t) => {
      current = t;
    },
    done: (t) => finish('✔', t),
    fail: (t) => finish('✖', t),
  };
}

/**
 * Polls `probe` until it reports ready or `timeoutMs` passes. `probe` returns a short state for the
 * progress line; the final state goes into the timeout error.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<{ ready: boolean; state: string }>,
  options: { timeoutMs: number; intervalMs?: number; progress?: Progress },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const r = await probe();
    options.progress?.update(`${what}: ${r.state}`);
    if (r.ready) return;
    if (Date.now() >= deadline) {
      throw new WeftError('ERR_WEFT_CLI_WAIT_TIMEOUT', { seconds: Math.round(options.timeoutMs / 1000), what, state: r.state });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
  }
}
