import { stringify } from 'yaml';
import { METRICS_PORT } from '../../lib/names.js';
import { agentPodName, CONTROL_NAMESPACE, ROOT_UNDERLAY_IP } from '../names.js';
import type { NodeInfo } from '../topology.js';

/**
 * The lab Prometheus's configuration. The control plane and the node agents are lab processes, not pods,
 * so they are static targets labelled as the chart's pods would be (namespace, pod, node, app); every
 * annotated pod (waypoints, user workloads) comes from the files the lab kubelets write, one per node
 * (pod-targets.ts). A 5 s interval: a lab shows a request in a query within seconds.
 */
export const SCRAPE_INTERVAL_S = 5;

export function scrapeConfig(nodes: readonly NodeInfo[], targetsDir: string): string {
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
        file_sd_configs: [{ files: [`${targetsDir}/*.json`], refresh_interval: `${SCRAPE_INTERVAL_S}s` }],
      },
    ],
  });
}
