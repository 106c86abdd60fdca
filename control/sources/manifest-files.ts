import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

// What the directory source (files.ts) counts as a manifest file, and how a file's text becomes documents.

/** `mtimeMs:size:ino`: a file whose stamp is unchanged is not reread. */
export function stampOf(s: Stats): string {
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}

/** Dotfiles are temp files of atomic writes and editor swap files. */
export function isManifestName(name: string): boolean {
  return !name.startsWith('.') && /\.(ya?ml|json)$/i.test(name);
}

export function hashOf(text: string): string {
  return createHash('sha1').update(text).digest('base64url');
}

export interface ParsedDoc {
  index: number;
  value?: unknown;
  error?: string;
  /** The document's own text, for once-per-content reporting. */
  source: string;
}

/** The documents of a YAML (multi-document) or JSON file, each parsed or with its parse error. */
export function parseDocuments(file: string, text: string): ParsedDoc[] {
  if (file.toLowerCase().endsWith('.json')) {
    try {
      return [{ index: 0, value: JSON.parse(text) as unknown, source: text }];
    } catch (err) {
      return [{ index: 0, error: `invalid JSON: ${(err as Error).message}`, source: text }];
    }
  }
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false });
  } catch (err) {
    return [{ index: 0, error: `invalid YAML: ${(err as Error).message}`, source: text }];
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ParsedDoc[] = [];
  list.forEach((doc, index) => {
    const range = (doc as { range?: [number, number, number] }).range;
    const source = range === undefined ? text : text.slice(range[0], range[2]);
    const errors = (doc as { errors?: { message: string }[] }).errors ?? [];
    if (errors.length > 0) {
      out.push({ index, error: `invalid YAML: ${errors[0]?.message.split('\n')[0] ?? 'parse error'}`, source });
      return;
    }
    try {
      out.push({ index, value: (doc as { toJS(o?: object): unknown }).toJS({ maxAliasCount: 100 }), source });
    } catch (err) {
      out.push({ index, error: `invalid YAML: ${(err as Error).message}`, source });
    }
  });
  return out;
}

/** `kind: List` (and `*List`) documents carry their objects in `items`. */
export function expandList(value: unknown): unknown[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items as unknown[];
  }
  return [value];
}

/** The uid and creationTimestamp an earlier apply wrote into `file` (kept across applies, as the API server does). */
export async function readPrevious(file: string): Promise<{ uid?: string; creationTimestamp?: string } | undefined> {
  try {
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    const first = (Array.isArray(docs) ? docs[0] : docs) as { toJS(): unknown } | undefined;
    const meta = (first?.toJS() as { metadata?: { uid?: unknown; creationTimestamp?: unknown } } | undefined)?.metadata;
    return {
      ...(typeof meta?.uid === 'string' ? { uid: meta.uid } : {}),
      ...(typeof meta?.creationTimestamp === 'string' ? { creationTimestamp: meta.creationTimestamp } : {}),
    };
  } catch {
    return undefined;
  }
}
