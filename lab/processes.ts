import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { joinInside } from '../lib/path-inside.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeAtomic } from './atomic-file.js';

/**
 * Every process the lab starts is recorded in `<state>/procs/<id>.json` with its pid and kernel start
 * time, so that `down` (also after a crash) kills exactly the processes it started: a pid whose start
 * time differs was reused by someone else and is left alone.
 */
export interface ProcRecord {
  readonly id: string;
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: string;
  readonly argv: readonly string[];
  readonly log: string;
  readonly startedAt: string;
}

export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall = index 19 after pid and comm
  } catch {
    return undefined;
  }
}

export function isAlive(rec: Pick<ProcRecord, 'pid' | 'startTime'>): boolean {
  const st = procStartTime(rec.pid);
  if (st === undefined || st !== rec.startTime) return false;
  try {
    // A zombie still has /proc/<pid>; its state letter is Z.
    const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pid exists and is not a zombie (whoever started it). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Leave the process running when this one exits (daemons started by `lab up`). */
  readonly detached?: boolean;
  readonly cwd?: string;
  /** Open descriptors of this process the child gets as its fds 3, 4, ... (e.g. a listening socket). */
  readonly passFds?: readonly number[];
}

export interface Started {
  readonly record: ProcRecord;
  readonly child: ChildProcess;
  /** Settles when the process exits; listened to from spawn on, so a fast exit is never missed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startProcess(procsDir: string, logsDir: string, id: string, argv: readonly string[], o: StartOptions = {}): Promise<Started> {
  mkdirSync(logsDir, { recursive: true });
  const log = joinInside(logsDir, `${id}.log`);
  const fd = openSync(log, 'a');
  const [cmd, ...args] = argv;
  let child: ChildProcess;
  try {
    // Always its own process group: a signal to the CLI or kubelet must not take the pods with it.
    child = spawn(cmd, args, { env: o.env ?? process.env, stdio: ['ignore', fd, fd, ...(o.passFds ?? [])], detached: true, cwd: o.cwd });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  if (o.detached) child.unref();
  const record: ProcRecord = { id, pid, startTime: procStartTime(pid) ?? '', argv, log, startedAt: new Date().toISOString() };
  await writeAtomic(joinInside(procsDir, `${id}.json`), JSON.stringify(record));
  return { record, child, exited };
}

export async function readRecord(procsDir: string, id: string): Promise<ProcRecord | undefined> {
  try {
    return JSON.parse(await readFile(joinInside(procsDir, `${id}.json`), 'utf8')) as ProcRecord;
  } catch {
    return undefined;
  }
}

/** Whether the recorded process `id` still runs (the same pid and start time). */
export async function isRunning(procsDir: string, id: string): Promise<boolean> {
  const rec = await readRecord(procsDir, id);
  return rec !== undefined && isAlive(rec);
}

export async function listRecords(procsDir: string): Promise<ProcRecord[]> {
  let names: string[];
  try {
    names = await readdir(procsDir);
  } catch {
    return [];
  }
  const out: ProcRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json') || n.startsWith('.')) continue;
    const rec = await readRecord(procsDir, n.slice(0, -5));
    if (rec) out.push(rec);
  }
  return out;
}

export async function forgetRecord(procsDir: string, id: string): Promise<void> {
  await rm(joinInside(procsDir, `${id}.json`), { force: true });
}

/** SIGTERM, then SIGKILL after `graceMs`; only if the pid still is the process we started. */
export async function stopProcess(rec: Pick<ProcRecord, 'pid' | 'startTime'>, graceMs = 3000): Promise<void> {
  if (!isAlive(rec)) return;
  signal(rec.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(rec)) return;
    await sleep(50);
  }
  if (!isAlive(rec)) return;
  signal(rec.pid, 'SIGKILL');
  for (let i = 0; i < 40 && isAlive(rec); i++) await sleep(25);
}

/** Signals the process group the lab gave the process (so a shell's children go too), else the pid. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
    return;
  } catch {
    // not a group leader (or already gone): fall back to the pid itself
  }
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Starts a lab daemon unless the recorded one still runs (what makes `lab up` idempotent). */
export async function ensureProcess(paths: { procs: string; logs: string }, id: string, argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<boolean> {
  const rec = await readRecord(paths.procs, id);
  if (rec && isAlive(rec)) return false;
  await startProcess(paths.procs, paths.logs, id, argv, { detached: true, env: env ?? process.env });
  return true;
}
