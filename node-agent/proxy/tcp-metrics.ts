import { Counter, type Registry } from 'prom-client';
import type { ConnectionSecurityPolicy, ServiceLabels } from '../../lib/telemetry/istio-labels.js';

// The node agent's TCP golden metrics with Istio's standard labels (docs/metrics.md), from both reporters:
// the source agent (outbound) and the destination agent (inbound, inbound-plain). Counted when a
// connection opens and when it ends (bytes from the sockets' own counters), never per chunk. The label
// values of a connection are looked up once, at open, in a map of series keyed by their joined values,
// which holds prom-client's labelled children: after the first connection of a combination, opening costs
// one string join and one map read, closing one map read per outcome flag. Every label is bounded:
// workloads are owners (never pods), principals service accounts, Services and flags come from state and
// a fixed table; source IPs and ports are never labels.

/** Who talks to whom, as metric labels (built by the proxies from cluster state at connection setup). */
export interface TcpLabels {
  readonly reporter: 'source' | 'destination';
  readonly srcWorkload: string;
  readonly srcNamespace: string;
  readonly srcIdentity: string;
  readonly dstWorkload: string;
  readonly dstNamespace: string;
  readonly dstIdentity: string;
  readonly service: ServiceLabels;
  readonly security: ConnectionSecurityPolicy;
}

const LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'connection_security_policy',
] as const;

type Child = ReturnType<Counter<string>['labels']>;

/** One label combination: its opened counter, and closed/byte counters per outcome flag. */
export class TcpSeries {
  readonly opened: Child;
  private readonly byFlag = new Map<string, { closed: Child; sent: Child; received: Child }>();

  constructor(
    private readonly m: TcpMetrics,
    private readonly values: readonly string[],
  ) {
    this.opened = m.opened.labels(...values);
  }

  /** Counts the end of a connection: `flag` is `-` for a normal close, else its refusal flag. */
  closed(flag: string, requestBytes: number, responseBytes: number): void {
    let c = this.byFlag.get(flag);
    if (c === undefined) {
      const v = [...this.values, flag];
      c = { closed: this.m.closed.labels(...v), sent: this.m.sent.labels(...v), received: this.m.received.labels(...v) };
      this.byFlag.set(flag, c);
    }
    c.closed.inc();
    if (requestBytes > 0) c.received.inc(requestBytes);
    if (responseBytes > 0) c.sent.inc(responseBytes);
  }
}

export class TcpMetrics {
  readonly opened: Counter<string>;
  readonly closed: Counter<string>;
  readonly sent: Counter<string>;
  readonly received: Counter<string>;
  private readonly series = new Map<string, TcpSeries>();

  constructor(registry: Registry) {
    const withFlags = [...LABELS, 'response_flags'];
    this.opened = new Counter({ name: 'weft_tcp_connections_opened_total', help: 'TCP connections opened through the mesh (refused ones too: see closed)', labelNames: LABELS, registers: [registry] });
    this.closed = new Counter({
      name: 'weft_tcp_connections_closed_total',
      help: 'TCP connections closed (response_flags: "-" for a normal close, else DENY, CONNECT, NO_ENDPOINT, ...)',
      labelNames: withFlags,
      registers: [registry],
    });
    this.sent = new Counter({ name: 'weft_tcp_sent_bytes_total', help: 'Bytes sent toward the client (response direction), counted when the connection ends', labelNames: withFlags, registers: [registry] });
    this.received = new Counter({ name: 'weft_tcp_received_bytes_total', help: 'Bytes received from the client (request direction), counted when the connection ends', labelNames: withFlags, registers: [registry] });
  }

  /** The series of a connection's labels (shared by every connection with the same ones). */
  seriesOf(l: TcpLabels): TcpSeries {
    const s = l.service;
    const values = [l.reporter, l.srcWorkload, l.srcNamespace, l.srcIdentity, l.dstWorkload, l.dstNamespace, l.dstIdentity, s.destination_service, s.destination_service_name, s.destination_service_namespace, l.security];
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, (series = new TcpSeries(this, values)));
    return series;
  }
}
