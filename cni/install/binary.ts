import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { WEFT_PLUGIN_TYPE } from './conflist.js';
import { ioError, removeFile, writeFileAtomic } from './files.js';

/**
 * Puts the plugin at `<binDir>/weft-cni` atomically (temp + rename, so a runtime exec'ing it mid-update
 * runs the old or the new one, never a half-written file). A `.js`/`.cjs` plugin path (the lab, a dev
 * checkout without the single executable) gets a two-line shell wrapper that runs it with this node.
 * Returns whether the file changed.
 */
export function installBinary(pluginPath: string, binDir: string): boolean {
  const target = join(binDir, WEFT_PLUGIN_TYPE);
  const wanted = /\.[cm]?js$/.test(pluginPath) ? wrapper(pluginPath) : readSource(pluginPath);
  if (sameContent(target, wanted)) return false;
  writeFileAtomic(target, wanted, { mode: 0o755 });
  return true;
}

export function removeBinary(binDir: string): boolean {
  return removeFile(join(binDir, WEFT_PLUGIN_TYPE));
}

function wrapper(script: string): Buffer {
  const abs = isAbsolute(script) ? script : resolve(script);
  return Buffer.from(`#!/bin/sh\n# weft-cni wrapper written by install-cni\nexec ${shellQuote(process.execPath)} ${shellQuote(abs)} "$@"\n`);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function readSource(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError('read the plugin at', path, err);
  }
}

function sameContent(path: string, wanted: Buffer): boolean {
  try {
    // Size first: the single executable is ~100 MB, no need to read it when the size already differs.
    if (statSync(path).size !== wanted.length) return false;
    return readFileSync(path).equals(wanted);
  } catch {
    return false;
  }
}

/** Identity of the installed file, to notice cheaply (no 100 MB read) that something replaced or removed it. */
export function binaryStamp(binDir: string): string | undefined {
  try {
    const s = statSync(join(binDir, WEFT_PLUGIN_TYPE));
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}`;
  } catch {
    return undefined;
  }
}
