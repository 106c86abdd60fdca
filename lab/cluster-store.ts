import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WeftError } from '../lib/errors/index.js';
import { joinInside } from '../lib/path-inside.js';
import { parse, stringify } from 'yaml';
import type { KubeObject } from './manifests.js';
import { parseManifests } from './manifests.js';

/**
 * Reads and writes the lab's cluster-state directory (names.ts `labPaths`): one YAML file per object,
 * written atomically (temp file in the same directory, then rename) so that the control plane's
 * directory source never reads half a file.
 */
export async function writeAtomic(path: string, content: string, mode?: number): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, content, mode !== undefined ? { mode } : {});
  await rename(tmp, path);
}

/** `file` is built from an object's kind, namespace and name: it must name a file directly in `dir`. */
export async function writeObject(dir: string, file: string, obj: unknown): Promise<void> {
  await writeAtomic(fileIn(dir, file), stringify(obj));
}

function fileIn(dir: string, file: string): string {
  const path = joinInside(dir, file);
  if (path.slice(0, path.lastIndexOf('/')) !== resolve(dir)) throw new WeftError('ERR_WEFT_PATH_OUTSIDE_ROOT', { path, root: resolve(dir) });
  return path;
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export interface StoredObject {
  readonly file: string;
  readonly object: KubeObject;
}

/** Every object in `dir` (not recursive; files starting with `.` are temp files). Bad files are skipped. */
export async function readObjects(dir: string, onInvalid?: (file: string, err: unknown) => void): Promise<StoredObject[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: StoredObject[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || !/\.(ya?ml|json)$/.test(name)) continue;
    const file = join(dir, name);
    try {
      const text = await readFile(file, 'utf8');
      for (const object of parseManifests(text, file)) out.push({ file, object });
    } catch (err) {
      onInvalid?.(file, err);
    }
  }
  return out;
}

/** Reads a status file's `status` (written by the kubelet), or undefined. */
export async function readStatus(dir: string, file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const doc = parse(await readFile(fileIn(dir, file), 'utf8')) as { status?: Record<string, unknown> } | null;
    return doc?.status;
  } catch {
    return undefined;
  }
}
