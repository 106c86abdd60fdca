import { ANNOTATION_PROMETHEUS_PATH, ANNOTATION_PROMETHEUS_PORT, ANNOTATION_PROMETHEUS_SCRAPE } from '../../lib/names.js';
import type { KubeObject } from '../manifests.js';

/**
 * Which pods Prometheus scrapes, by the annotations the chart and the waypoint controller put on them
 * (`prometheus.io/scrape: "true"`, `prometheus.io/port`, `prometheus.io/path`), as the common
 * `kubernetes-pods` scrape job reads them through Kubernetes service discovery. Debian's prometheus is
 * built without Kubernetes discovery (`kubernetes_sd_configs` is unknown to it), so each lab kubelet writes
 * the annotated pods it runs as file-based discovery targets with the labels that job gives: namespace,
 * pod, node, and the pod's own labels (write-pod-targets.ts).
 */
/** One group of Prometheus's file_sd format. */
export interface FileSdGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

export interface ScrapablePod {
  readonly obj: KubeObject;
  /** status.podIP once the pod runs. */
  readonly ip: string | undefined;
  readonly node: string | undefined;
}

export function podScrapeTargets(pods: readonly ScrapablePod[]): FileSdGroup[] {
  const groups: FileSdGroup[] = [];
  for (const p of pods) {
    const annotations = p.obj.metadata.annotations ?? {};
    if (annotations[ANNOTATION_PROMETHEUS_SCRAPE] !== 'true' || !p.ip) continue;
    const port = Number(annotations[ANNOTATION_PROMETHEUS_PORT]);
    // No port, or not one: the kubernetes-pods job would scrape the declared container ports; the
    // lab's components all name theirs, so an annotated pod without a valid port is skipped.
    if (!Number.isInteger(port) || port < 1 || port > 65_535) continue;
    const labels: Record<string, string> = {
      namespace: p.obj.metadata.namespace ?? 'default',
      pod: p.obj.metadata.name,
      ...(p.node ? { node: p.node } : {}),
      ...(annotations[ANNOTATION_PROMETHEUS_PATH] ? { __metrics_path__: annotations[ANNOTATION_PROMETHEUS_PATH] } : {}),
    };
    for (const [k, v] of Object.entries(p.obj.metadata.labels ?? {})) {
      // Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*: the kubernetes-pods job's labelmap turns
      // `app.kubernetes.io/name` into `app_kubernetes_io_name`, and so does this.
      const name = k.replace(/[^a-zA-Z0-9_]/g, '_');
      if (!(name in labels)) labels[name] = v;
    }
    groups.push({ targets: [`${p.ip}:${port}`], labels });
  }
  return groups.sort((a, b) => `${a.labels.namespace}/${a.labels.pod}`.localeCompare(`${b.labels.namespace}/${b.labels.pod}`));
}
