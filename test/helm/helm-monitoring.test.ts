// Pins the chart's optional monitoring objects (values `monitoring`): off by default; with
// podMonitor.enabled, a PodMonitor for weft-control and the node agents (release namespace) and one for
// the waypoints of every namespace, selected by the class label the waypoint controller puts on their pods,
// both scraping the prometheus.io port (the node agents declare no container port) with the labels asked
// for; with dashboards.enabled, one ConfigMap per dashboard of helm/weft/dashboards with Grafana's sidecar
// label and the dashboard's JSON unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { GATEWAY_CLASS_LABEL } from '../../control/waypoints/objects.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import { CHART, cleanupHelmHome, describeHelm, find, render } from './chart.js';

interface Endpoint { interval: string; path: string; relabelings: { action: string; regex: string; sourceLabels: string[]; targetLabel?: string; replacement?: string }[] }

describeHelm('chart monitoring values', () => {
  afterAll(cleanupHelmHome);

  it('renders no PodMonitor or dashboard by default', async () => {
    const objs = await render();
    expect(objs.filter((o) => o.kind === 'PodMonitor')).toEqual([]);
    expect(objs.filter((o) => o.metadata.labels?.grafana_dashboard !== undefined)).toEqual([]);
  });

  it('podMonitor.enabled: one PodMonitor for the control plane and agents, one for every waypoint', async () => {
    const objs = await render(['--set', 'monitoring.podMonitor.enabled=true', '--set-string', 'monitoring.podMonitor.labels.release=kps', '--set', 'monitoring.podMonitor.interval=30s']);
    const core = find(objs, 'PodMonitor', 'weft');
    const waypoints = find(objs, 'PodMonitor', 'weft-waypoints');
    for (const pm of [core, waypoints]) {
      expect(pm.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(pm.metadata.labels?.release).toBe('kps');
      const [ep] = (pm.spec as { podMetricsEndpoints: Endpoint[] }).podMetricsEndpoints;
      expect(ep.interval).toBe('30s');
      expect(ep.path).toBe('/metrics');
      // The annotation's port becomes the target's: 10.0.0.7:8080;15020 → 10.0.0.7:15020, 10.0.0.7;15020 too.
      const address = ep.relabelings.find((r) => r.targetLabel === '__address__');
      const re = new RegExp(`^(?:${address?.regex ?? ''})$`);
      expect(address?.replacement).toBe('$1:$2'); // Prometheus and JavaScript read $1/$2 alike
      expect('10.0.0.7:8080;15020'.replace(re, '$1:$2')).toBe('10.0.0.7:15020');
      expect('10.0.0.7;15020'.replace(re, '$1:$2')).toBe('10.0.0.7:15020');
      // Only the metrics port of a pod with several container ports, and the port-less node agent.
      const port = new RegExp(`^(?:${ep.relabelings.find((r) => r.sourceLabels.includes('__meta_kubernetes_pod_container_port_number'))?.regex ?? ''})$`);
      expect(['15020', '', '15012', '15021'].map((p) => port.test(p))).toEqual([true, true, false, false]);
    }
    expect(core.metadata.namespace).toBe('weft-system');
    expect(core.spec?.namespaceSelector).toEqual({ matchNames: ['weft-system'] });
    expect(core.spec?.selector).toEqual({ matchLabels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/instance': 'weft' } });
    expect(waypoints.spec?.namespaceSelector).toEqual({ any: true });
    expect(waypoints.spec?.selector).toEqual({ matchLabels: { [GATEWAY_CLASS_LABEL]: WAYPOINT_CLASS } });
  });

  it('dashboards.enabled: every dashboard as a ConfigMap for the Grafana sidecar, unchanged', async () => {
    const objs = await render(['--set', 'monitoring.dashboards.enabled=true']);
    const files = readdirSync(join(CHART, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBe(4);
    for (const f of files) {
      const cm = find(objs, 'ConfigMap', `weft-dashboard-${f.replace(/\.json$/, '')}`);
      expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
      expect(JSON.parse(cm.data?.[f] ?? '')).toEqual(JSON.parse(readFileSync(join(CHART, 'dashboards', f), 'utf8')));
    }
  });

  it('refuses an unknown monitoring key', async () => {
    await expect(render(['--set', 'monitoring.podMonitr.enabled=true'])).rejects.toThrow(/podMonitr/);
  });
});
