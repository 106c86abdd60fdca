// The lab Prometheus's pod discovery (lab/prometheus/pod-targets.ts) reads the kubernetes-pods annotations
// as that job does: only `prometheus.io/scrape: "true"` pods that run (have an IP) and name a valid port;
// `prometheus.io/path` becomes __metrics_path__; the target carries namespace, pod, node and the pod's
// labels with Prometheus-safe names.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lab/manifests.js';
import { podScrapeTargets } from '../../lab/prometheus/pod-targets.js';

const pod = (name: string, annotations: Record<string, string>, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'demo', annotations, labels },
});
const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '15020' };

describe('podScrapeTargets', () => {
  it('lists an annotated running pod with the kubernetes-pods labels', () => {
    const groups = podScrapeTargets([{ obj: pod('waypoint-abc', scrape, { 'gateway.networking.k8s.io/gateway-name': 'waypoint', app: 'w' }), ip: '10.244.1.5', node: 'n1' }]);
    expect(groups).toEqual([
      {
        targets: ['10.244.1.5:15020'],
        labels: { namespace: 'demo', pod: 'waypoint-abc', node: 'n1', gateway_networking_k8s_io_gateway_name: 'waypoint', app: 'w' },
      },
    ]);
  });

  it('takes the metrics path from prometheus.io/path', () => {
    const [g] = podScrapeTargets([{ obj: pod('a', { ...scrape, 'prometheus.io/path': '/stats/prometheus' }), ip: '10.0.0.1', node: undefined }]);
    expect(g.labels.__metrics_path__).toBe('/stats/prometheus');
  });

  it('skips pods not annotated "true", not running yet, or without a valid port', () => {
    expect(
      podScrapeTargets([
        { obj: pod('no-annotation', {}), ip: '10.0.0.1', node: 'n1' },
        { obj: pod('false', { ...scrape, 'prometheus.io/scrape': 'false' }), ip: '10.0.0.2', node: 'n1' },
        { obj: pod('pending', scrape), ip: undefined, node: 'n1' },
        { obj: pod('no-port', { 'prometheus.io/scrape': 'true' }), ip: '10.0.0.3', node: 'n1' },
        { obj: pod('bad-port', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '70000' }), ip: '10.0.0.4', node: 'n1' },
        { obj: pod('named-port', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': 'metrics' }), ip: '10.0.0.5', node: 'n1' },
      ]),
    ).toEqual([]);
  });

  it("does not let a pod label replace the target's own labels", () => {
    const [g] = podScrapeTargets([{ obj: pod('a', scrape, { namespace: 'spoofed', pod: 'other' }), ip: '10.0.0.1', node: 'n1' }]);
    expect(g.labels.namespace).toBe('demo');
    expect(g.labels.pod).toBe('a');
  });
});
