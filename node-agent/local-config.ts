import { readFile } from 'node:fs/promises';
import { watchFile, unwatchFile } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { WeftError } from '../lib/errors/index.js';
import { AuthorizationPolicySchema, ServiceSchema, WorkloadSchema, type Delta, type StateStore } from '../lib/model/index.js';

/**
 * `--local-config <file.yaml>`: the cluster state in weft's model, plus a CA to issue workload
 * certificates locally (ztunnel's local mode). PEM may be inline or in files relative to the config.
 */
export const LocalConfigSchema = z.object({
  trustDomain: z.string().default('cluster.local'),
  ca: z.object({
    certPem: z.string().optional(),
    keyPem: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
  }),
  workloads: z.array(WorkloadSchema).default([]),
  services: z.array(ServiceSchema).default([]),
  policies: z.array(AuthorizationPolicySchema).default([]),
});
export type LocalConfig = z.infer<typeof LocalConfigSchema>;

export async function loadLocalConfig(file: string): Promise<LocalConfig & { caCertPem: string; caKeyPem: string }> {
  let cfg: LocalConfig;
  try {
    cfg = LocalConfigSchema.parse(parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--local-config ${file}: ${(err as Error).message.slice(0, 500)}` }, { cause: err });
  }
  const rel = (p: string): string => resolve(dirname(file), p);
  const caCertPem = cfg.ca.certPem ?? (cfg.ca.certFile ? await readFile(rel(cfg.ca.certFile), 'utf8') : undefined);
  const caKeyPem = cfg.ca.keyPem ?? (cfg.ca.keyFile ? await readFile(rel(cfg.ca.keyFile), 'utf8') : undefined);
  if (!caCertPem || !caKeyPem) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--local-config ${file}: ca needs certPem/certFile and keyPem/keyFile` });
  return { ...cfg, caCertPem, caKeyPem };
}

/** The config as snapshot deltas (every kind replaced). */
export function localConfigDeltas(cfg: LocalConfig, version: string): Delta[] {
  return [
    { kind: 'Workload', version, upserts: cfg.workloads, removes: [], replace: true, snapshotDone: true },
    { kind: 'Service', version, upserts: cfg.services, removes: [], replace: true, snapshotDone: true },
    { kind: 'Authorization', version, upserts: cfg.policies, removes: [], replace: true, snapshotDone: true },
  ];
}

/** Re-applies the file when it changes (polling: works across rename-based atomic writes). */
export function watchLocalConfig(file: string, store: StateStore, onError: (err: unknown) => void): () => void {
  let n = 1;
  const listener = (): void => {
    loadLocalConfig(file).then((cfg) => store.apply(localConfigDeltas(cfg, String(++n))), onError);
  };
  watchFile(file, { interval: 250 }, listener);
  return () => unwatchFile(file, listener);
}
