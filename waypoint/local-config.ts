import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { WeftError } from '../lib/errors/index.js';
import { AuthorizationPolicySchema, RouteSchema, ServiceSchema, WorkloadSchema, type Delta } from '../lib/model/index.js';

/**
 * `--local-config <file.yaml>` of the waypoint: the cluster state in weft's model (workloads, services,
 * policies, and the routes attached to the Services bound to this waypoint), plus optional CA material to
 * issue the waypoint's own certificate locally. PEM may be inline or in files relative to the config.
 */
export const WaypointLocalConfigSchema = z.object({
  trustDomain: z.string().default('cluster.local'),
  ca: z
    .object({ certPem: z.string().optional(), keyPem: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional() })
    .optional(),
  workloads: z.array(WorkloadSchema).default([]),
  services: z.array(ServiceSchema).default([]),
  policies: z.array(AuthorizationPolicySchema).default([]),
  routes: z.array(RouteSchema).default([]),
});
export type WaypointLocalConfig = z.infer<typeof WaypointLocalConfigSchema>;

export async function loadWaypointConfig(file: string): Promise<WaypointLocalConfig & { caCertPem?: string; caKeyPem?: string }> {
  let cfg: WaypointLocalConfig;
  try {
    cfg = WaypointLocalConfigSchema.parse(parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--local-config ${file}: ${(err as Error).message.slice(0, 500)}` }, { cause: err });
  }
  const rel = (p: string): string => resolve(dirname(file), p);
  const caCertPem = cfg.ca?.certPem ?? (cfg.ca?.certFile ? await readFile(rel(cfg.ca.certFile), 'utf8') : undefined);
  const caKeyPem = cfg.ca?.keyPem ?? (cfg.ca?.keyFile ? await readFile(rel(cfg.ca.keyFile), 'utf8') : undefined);
  return { ...cfg, caCertPem, caKeyPem };
}

export function waypointConfigDeltas(cfg: WaypointLocalConfig, gateway: { namespace: string; name: string }, version: string): Delta[] {
  return [
    { kind: 'Workload', version, upserts: cfg.workloads, removes: [], replace: true, snapshotDone: true },
    { kind: 'Service', version, upserts: cfg.services, removes: [], replace: true, snapshotDone: true },
    { kind: 'Authorization', version, upserts: cfg.policies, removes: [], replace: true, snapshotDone: true },
    { kind: 'RouteTable', version, upserts: [{ namespace: gateway.namespace, name: gateway.name, routes: cfg.routes }], removes: [], replace: true, snapshotDone: true },
  ];
}
