import { createServer, type Server } from 'node:http';
import { listenHttp, type ListenAt } from './http-endpoints.js';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/**
 * A registry per process (or per test), with Node's process metrics under the `weft_` prefix: prom-client
 * names them `process_*` and `nodejs_*` itself, so they read `weft_process_*` and `weft_nodejs_*`.
 */
export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'weft_' });
  return registry;
}

/**
 * The registry's gauge `name`, made on first use: several instances in one process (servers, pools, a test's
 * agents) share one registry, where a second registration of a name would throw.
 */
export function sharedGauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Gauge ? existing : new Gauge({ name, help, registers: [registry] });
}

/** The registry's counter `name` with these labels, made on first use (see sharedGauge). */
export function sharedCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Counter ? existing : new Counter<L>({ name, help, labelNames, registers: [registry] });
}

/**
 * Serves `GET /metrics` in the Prometheus text format (port 15020 by convention). Resolves once listening.
 */
export async function serveMetrics(registry: Registry, at: ListenAt): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/stats/prometheus')) {
      res.writeHead(404).end('not found: try GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      },
      (err: unknown) => {
        res.writeHead(500).end(`metrics failed: ${String(err)}\n`);
      },
    );
  });
  await listenHttp(server, at);
  return server;
}
