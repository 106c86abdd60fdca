import { stringify } from 'yaml';
import { METRICS_PORT } from '../../lib/names.js';
import { agentPodName, CONTROL_NAMESPACE, ROOT_UNDERLAY_IP } from '../names.js';
import type { NodeInfo } from '../topology.js';

/**
 * The lab Prometheus's configuration. The control plane and the node agents are lab processes, not pods,
 * so they are static targets labelled as the chart's pods would be (namespace, pod, node, app); every pod
 * annotated `prometheus.io/scrape: "true"` (waypoints, user workloads) comes from Prometheus' own
 * Kubernetes service discovery against the lab's API server (`kubeconfig`: the in-lab admin one), with
 * the common `kubernetes-pods` job's relabelling: the `prometheus.io/port` and `prometheus.io/path`
 * annotations, and the labels namespace, pod, node and the pod's own labels. A 5 s interval: a lab shows
 * a request in a query within seconds.
 */
export const SCRAPE_INTERVAL_S = 5;

const meta = (name: string): string => `__meta_kubernetes_pod_${name}`;

export function scrapeConfig(nodes: readonly NodeInfo[], kubeconfig: string): string {
  const metrics = (host: string): string => `${host}:${METRICS_PORT}`;
  return stringify({
    global: { scrape_interval: `${SCRAPE_INTERVAL_S}s`, evaluation_interval: `${SCRAPE_INTERVAL_S}s` },
    scrape_configs: [
      {
        job_name: 'weft-control',
        static_configs: [{ targets: [metrics(ROOT_UNDERLAY_IP)], labels: { namespace: CONTROL_NAMESPACE, app: 'weft-control', pod: 'weft-control' } }],
      },
      {
        job_name: 'weft-node-agent',
        static_configs: nodes.map((n) => ({
          targets: [metrics(n.ip)],
          labels: { namespace: CONTROL_NAMESPACE, app: 'weft-node-agent', pod: agentPodName(n.name), node: n.name },
        })),
      },
      {
        job_name: 'kubernetes-pods',
        kubernetes_sd_configs: [{ role: 'pod', kubeconfig_file: kubeconfig }],
        relabel_configs: [
          { source_labels: [meta('annotation_prometheus_io_scrape')], regex: 'true', action: 'keep' },
          // No valid port annotation: skipped (the lab's components all name theirs).
          { source_labels: [meta('annotation_prometheus_io_port')], regex: '([0-9]{1,5})', action: 'keep' },
          { source_labels: [meta('ip'), meta('annotation_prometheus_io_port')], regex: '(.+);(.+)', target_label: '__address__', replacement: '$1:$2' },
          { source_labels: [meta('annotation_prometheus_io_path')], regex: '(.+)', target_label: '__metrics_path__' },
          { action: 'labelmap', regex: `${meta('label_')}(.+)` },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { source_labels: [meta('name')], target_label: 'pod' },
          { source_labels: [meta('node_name')], target_label: 'node' },
        ],
      },
    ],
  });
}
