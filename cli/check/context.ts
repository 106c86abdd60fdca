import { hasCode } from '../../lib/errors/index.js';
import type { AdminComponent } from '../admin/admin-target.js';
import type { ClusterClient, KubeObject, ListOptions } from '../../lib/kube/cluster-client.js';
import type { ResourceType } from '../../lib/kube/resources.js';
import type { Finding } from './findings.js';

/** A CA certificate with less left than this fails `weft check` (`--ca-expiry-threshold`, WEFT-C030). */
export const CA_MIN_SECONDS = 30 * 86_400;

/**
 * What every analyzer of `weft check` reads from: the cluster (Kubernetes API or a lab's store), the
 * admin endpoints of the node agents and waypoints where the CLI reaches them (a lab; in Kubernetes they
 * listen on loopback and need a port-forward), and the thresholds of the command line.
 */
export interface AnalyzerContext {
  readonly client: ClusterClient;
  /** Namespace of weft-control and the node agents. */
  readonly meshNamespace: string;
  readonly now: Date;
  /** A CA certificate with less than this left is a finding (WEFT-C030). */
  readonly caExpirySeconds: number;
  /** A workload certificate with less than this left is a finding; undefined: a quarter of its lifetime. */
  readonly certExpirySeconds: number | undefined;
  /** GET on an admin endpoint; undefined where the CLI cannot reach them. */
  readonly admin: ((c: AdminComponent, path: string) => Promise<unknown>) | undefined;
}

/** One analyzer's part of the report: what it examined, and its findings. */
export interface Analysis {
  /** `3 routes`, `2 nodes with captured pods`. */
  readonly examined: string;
  /** Why it could not look (the check line is then skipped). */
  readonly skipped?: string;
  readonly findings: readonly Finding[];
}

/** An analyzer and the name of its check line. */
export interface Analyzer {
  readonly check: string;
  readonly run: (ctx: AnalyzerContext) => Promise<Analysis>;
}

/** Objects of a type, or none when its API is not installed (GRPCRoute without the CRD). */
export async function listInstalled(client: ClusterClient, type: ResourceType, options?: ListOptions): Promise<KubeObject[]> {
  try {
    return await client.list(type, options);
  } catch (err) {
    if (hasCode(err, 'ERR_WEFT_CLI_API_NOT_INSTALLED')) return [];
    throw err;
  }
}

/** A `weft ...` command that runs as printed against this target (a lab is named with --lab). */
export function weftCommand(client: Pick<ClusterClient, 'target'>, args: string): string {
  return client.target.kind === 'lab' ? `weft ${args} --lab ${client.target.name}` : `weft ${args}`;
}

/** How to change an object, with the command: `kubectl edit` on a cluster; in a lab, its manifest applied again. */
export function editAdvice(client: Pick<ClusterClient, 'target'>, kind: string, namespace: string, name: string): string {
  if (client.target.kind === 'lab') return `apply the corrected manifest of ${kind} ${namespace}/${name}: \`sudo weft lab apply --lab ${client.target.name} -f <file>\``;
  return `edit it: \`kubectl -n ${namespace} edit ${kind.toLowerCase()} ${name}\``;
}

export function nameOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}
