import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { startComponent, type Placement } from '../kube/components.js';
import { startLoopbackForward } from '../kube/loopback-forward.js';
import { type LabPaths, ROOT_UNDERLAY_IP, rootNetns } from '../names.js';
import { isRunning } from '../processes.js';
import type { NodeInfo } from '../topology.js';
import { scrapeConfig } from './scrape-config.js';

/**
 * A real Prometheus (Debian's `prometheus` package, which scripts/setup installs) in the lab's root
 * namespace, scraping weft-control, every node agent and every annotated pod (waypoints), with a
 * loopback forward so that a browser, `curl` or `weft` on the host can query it. Both are recorded lab
 * processes: `up` run again starts only what is missing, `down` stops them.
 */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const PROMETHEUS_PORT = 9090;

export interface LabPrometheusPaths {
  readonly dir: string;
  readonly config: string;
  /** File-based discovery: each lab kubelet writes the annotated pods it runs here (`<node>.json`). */
  readonly targetsDir: string;
  readonly data: string;
}

export function labPrometheusPaths(paths: LabPaths): LabPrometheusPaths {
  const dir = join(paths.root, 'prometheus');
  return { dir, config: join(dir, 'prometheus.yml'), targetsDir: join(dir, 'targets'), data: join(dir, 'data') };
}

/** What `up` records in lab.json about Prometheus. */
export interface LabPrometheusInfo {
  /** As lab namespaces reach it. */
  readonly url: string;
  /** The host's loopback port forwarded to it. */
  readonly hostPort: number;
}

export interface EnsureLabPrometheusOptions {
  readonly lab: string;
  readonly paths: LabPaths;
  readonly nodes: readonly NodeInfo[];
  readonly previous?: LabPrometheusInfo;
  readonly log: Logger;
}

export async function ensureLabPrometheus(o: EnsureLabPrometheusOptions): Promise<LabPrometheusInfo> {
  if (!existsSync(PROMETHEUS_BINARY)) throw new WeftError('ERR_WEFT_LAB_TOOL_MISSING', { tool: 'prometheus', path: PROMETHEUS_BINARY });
  const p = labPrometheusPaths(o.paths);
  await mkdir(p.targetsDir, { recursive: true });
  await mkdir(p.data, { recursive: true });
  await writeFile(p.config, scrapeConfig(o.nodes, p.targetsDir));
  const place: Placement = { procs: o.paths.procs, logs: o.paths.logs, dir: p.dir, netns: rootNetns(o.lab), detached: true, readyTimeoutMs: 60_000 };
  const running = (id: string): Promise<boolean> => isRunning(o.paths.procs, id);
  const listen = `${ROOT_UNDERLAY_IP}:${PROMETHEUS_PORT}`;
  if (!(await running('prometheus'))) {
    const t0 = Date.now();
    await startComponent(
      { ...place, id: 'prometheus' },
      'prometheus',
      [
        PROMETHEUS_BINARY,
        `--config.file=${p.config}`,
        `--storage.tsdb.path=${p.data}`,
        // A lab lives for hours at most; two hours of samples keep its disk and memory small.
        '--storage.tsdb.retention.time=2h',
        `--web.listen-address=${listen}`,
      ],
      { url: `http://${listen}/-/ready` },
    );
    o.log.info({ component: 'prometheus', ms: Date.now() - t0 }, 'started');
  }
  let hostPort = o.previous?.hostPort;
  if (hostPort === undefined || !(await running('prometheus-forward'))) {
    const f = await startLoopbackForward({ ...place, id: 'prometheus-forward', target: { host: ROOT_UNDERLAY_IP, port: PROMETHEUS_PORT }, port: hostPort, health: (port) => ({ url: `http://127.0.0.1:${port}/-/ready` }) });
    hostPort = f.port;
  }
  return { url: `http://${listen}`, hostPort };
}
