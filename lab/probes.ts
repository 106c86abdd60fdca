import { request } from 'node:http';
import { connect } from 'node:net';
import type { Container, Probe } from './manifests.js';

/**
 * Kubelet-style HTTP, TCP and exec probes. The kubelet process runs in the node's namespace, so a probe
 * leaves from the node (source: the node's pod-bridge gateway), as a real kubelet's does; an exec probe's
 * command runs in the container (the caller's `exec`: the pod's namespaces, its paths mapped).
 */
export interface ProbeTarget {
  readonly ip: string;
  /** Runs the command in the container; true when it exits 0 within `timeoutMs`. */
  readonly exec: (command: readonly string[], timeoutMs: number) => Promise<boolean>;
}

export function resolvePort(port: number | string, c: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

export function probeOnce(target: ProbeTarget, probe: Probe, c: Container): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const ip = target.ip;
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, c);
    if (port === undefined) return Promise.resolve(false);
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/weft-lab' };
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const req = request({ host: ip, port, path: probe.httpGet!.path ?? '/', method: 'GET', headers, timeout: timeoutMs }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, c);
    if (port === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const s = connect({ host: ip, port, timeout: timeoutMs });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(false));
    });
  }
  if (probe.exec?.command !== undefined && probe.exec.command.length > 0) return target.exec(probe.exec.command, timeoutMs);
  return Promise.resolve(true); // grpc probes are not run by the lab: treated as passing
}

/** Runs a probe on its period and reports the thresholded result (success/failureThreshold). */
export class ProbeLoop {
  private timer: NodeJS.Timeout | undefined;
  private successes = 0;
  private failures = 0;
  private stopped = false;
  result: boolean | undefined;

  constructor(
    private readonly target: ProbeTarget,
    private readonly probe: Probe,
    private readonly container: Container,
    private readonly onChange: (ok: boolean) => void,
  ) {}

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const ok = await probeOnce(this.target, this.probe, this.container);
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (this.successes >= (this.probe.successThreshold ?? 1) && this.result !== true) {
        this.result = true;
        this.onChange(true);
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= (this.probe.failureThreshold ?? 3) && this.result !== false) {
        this.result = false;
        this.onChange(false);
      }
    }
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }
}
