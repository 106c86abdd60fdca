import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../lib/package-root.js';
import { WeftError } from '../../lib/errors/index.js';
import { run, type RunResult } from '../command.js';
import { netnsPath } from '../netns.js';
import { forgetRecord, startProcess, stopProcess, type ProcRecord, type Started } from '../processes.js';
import type { ControlPlanePki } from './pki.js';

/**
 * Runs the real Kubernetes control plane's processes (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) from the binaries `scripts/install-tools` builds into .tools/bin, each recorded like
 * every lab process (pid + start time, so a stop never hits a reused pid), optionally inside a network
 * namespace. A start returns once the component answers its health endpoint; a missing binary, an early
 * exit or no answer in time is a typed error naming the component (and its log file).
 */
export type KubeComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl';

export function toolsBinDir(): string {
  return join(packageRoot(), '.tools', 'bin');
}

export function kubeBinary(component: KubeComponent, binDir: string = toolsBinDir()): string {
  const path = join(binDir, component);
  if (!existsSync(path)) throw new WeftError('ERR_WEFT_LAB_KUBE_BINARY_MISSING', { component, path });
  return path;
}

/** Where a component runs and what it leaves: process records, logs, and its own working directory. */
export interface Placement {
  readonly procs: string;
  readonly logs: string;
  /** Data and generated files go to `<dir>/<component>`. */
  readonly dir: string;
  /** Run inside this network namespace (its loopback is then the component's 127.0.0.1). */
  readonly netns?: string;
  readonly binDir?: string;
  /** Names the process record and log file (default: the component's name). */
  readonly id?: string;
  /** How long to wait for the health endpoint (default 60 s: the API server's bootstrap on a busy machine). */
  readonly readyTimeoutMs?: number;
  /** Leave the process running when this one exits (`weft lab up`); default: this process holds it. */
  readonly detached?: boolean;
}

export interface RunningComponent {
  /** A KubeComponent, or another recorded helper (the lab's loopback forward). */
  readonly component: string;
  readonly record: ProcRecord;
  readonly log: string;
  /** Settles when the process exits. */
  readonly exited: Promise<unknown>;
}

export interface EtcdOptions extends Placement {
  readonly host?: string;
  readonly clientPort?: number;
  readonly peerPort?: number;
  /** fsync every write (default off: a lab's etcd is thrown away with the lab, and fsync load is shared). */
  readonly durable?: boolean;
}

export interface EtcdRunning extends RunningComponent {
  readonly clientUrl: string;
}

export async function startEtcd(o: EtcdOptions): Promise<EtcdRunning> {
  const host = o.host ?? '127.0.0.1';
  const clientUrl = `http://${host}:${o.clientPort ?? 2379}`;
  const peerUrl = `http://${host}:${o.peerPort ?? 2380}`;
  const dataDir = join(o.dir, 'etcd', 'data');
  await mkdir(join(o.dir, 'etcd'), { recursive: true, mode: 0o700 });
  const argv = [
    kubeBinary('etcd', o.binDir),
    '--name=weft-lab',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=weft-lab=${peerUrl}`,
    '--initial-cluster-state=new',
    ...(o.durable ? [] : ['--unsafe-no-fsync']),
  ];
  const running = await startComponent(o, 'etcd', argv, { url: `${clientUrl}/health` });
  return { ...running, clientUrl };
}

export interface ApiserverOptions extends Placement {
  readonly pki: ControlPlanePki;
  readonly etcdServers: readonly string[];
  readonly bindAddress?: string;
  readonly securePort?: number;
  /**
   * The address the `kubernetes` Service's endpoints name. Not a loopback address: the API server refuses
   * to start with one (the lab gives its root namespace's underlay address).
   */
  readonly advertiseAddress: string;
  readonly serviceClusterIpRange?: string;
  readonly extraArgs?: readonly string[];
}

export interface ApiserverRunning extends RunningComponent {
  readonly url: string;
}

export async function startKubeApiserver(o: ApiserverOptions): Promise<ApiserverRunning> {
  const bind = o.bindAddress ?? '127.0.0.1';
  const port = o.securePort ?? 6443;
  const url = `https://${bind}:${port}`;
  const certDir = join(o.dir, 'kube-apiserver');
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const argv = [
    kubeBinary('kube-apiserver', o.binDir),
    `--etcd-servers=${o.etcdServers.join(',')}`,
    `--bind-address=${bind}`,
    `--secure-port=${port}`,
    `--advertise-address=${o.advertiseAddress}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${o.pki.serverCert}`,
    `--tls-private-key-file=${o.pki.serverKey}`,
    `--client-ca-file=${o.pki.caCert}`,
    `--service-account-key-file=${o.pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${o.pki.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${o.serviceClusterIpRange ?? '10.96.0.0/16'}`,
    '--allow-privileged=true',
    '--profiling=false',
    ...(o.extraArgs ?? []),
  ];
  const admin = o.pki.clients.admin;
  const running = await startComponent(o, 'kube-apiserver', argv, { url: `${url}/readyz`, ca: o.pki.caCert, cert: admin.cert, key: admin.key });
  return { ...running, url };
}

export interface ControllerOptions extends Placement {
  /** A kubeconfig for the component's own identity (see writeKubeconfig). */
  readonly kubeconfig: string;
  readonly bindAddress?: string;
  readonly securePort?: number;
  readonly extraArgs?: readonly string[];
}

export function startKubeControllerManager(o: ControllerOptions & { readonly pki: ControlPlanePki; readonly serviceClusterIpRange?: string }): Promise<RunningComponent> {
  return startController('kube-controller-manager', 10257, o, [
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${o.pki.serviceAccountKey}`,
    `--root-ca-file=${o.pki.caCert}`,
    `--service-cluster-ip-range=${o.serviceClusterIpRange ?? '10.96.0.0/16'}`,
  ]);
}

export function startKubeScheduler(o: ControllerOptions): Promise<RunningComponent> {
  return startController('kube-scheduler', 10259, o, []);
}

/**
 * The controller manager and the scheduler take the same flags for their own identity (one kubeconfig for
 * API access, authentication and authorization delegation), their HTTPS health endpoint and its
 * self-made certificate; only their own flags differ. Leader election is off: the lab runs one of each.
 */
async function startController(name: 'kube-controller-manager' | 'kube-scheduler', defaultPort: number, o: ControllerOptions, own: readonly string[]): Promise<RunningComponent> {
  const bind = o.bindAddress ?? '127.0.0.1';
  const port = o.securePort ?? defaultPort;
  const certDir = join(o.dir, name);
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const argv = [
    kubeBinary(name, o.binDir),
    `--kubeconfig=${o.kubeconfig}`,
    `--authentication-kubeconfig=${o.kubeconfig}`,
    `--authorization-kubeconfig=${o.kubeconfig}`,
    `--bind-address=${bind}`,
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    '--leader-elect=false',
    ...own,
    ...(o.extraArgs ?? []),
  ];
  return startComponent(o, name, argv, { url: `https://${bind}:${port}/healthz`, selfSigned: true });
}

/** SIGTERM (SIGKILL after the grace time) and forget its record; a no-op for a process already gone. */
export async function stopComponent(procs: string, c: RunningComponent, graceMs = 5000): Promise<void> {
  await stopProcess(c.record, graceMs);
  await forgetRecord(procs, c.record.id);
}

/** Runs kubectl with the given kubeconfig (inside the placement's namespace); rejects on a non-zero exit. */
export function kubectl(p: Pick<Placement, 'netns' | 'binDir'>, kubeconfig: string, args: readonly string[], input?: string): Promise<RunResult> {
  return run(inNetns(p.netns, [kubeBinary('kubectl', p.binDir), `--kubeconfig=${kubeconfig}`, ...args]), { input, timeoutMs: 60_000 });
}

function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  // nsenter execs the program: the recorded pid and start time are the component's own.
  return netns ? ['nsenter', `--net=${netnsPath(netns)}`, '--', ...argv] : [...argv];
}

export interface Health {
  readonly url: string;
  /** Probe from this process's network namespace, not the placement's (a socket that lives on the host). */
  readonly fromHost?: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** The component serves a certificate it made itself at start: check that it answers, not whom. */
  readonly selfSigned?: boolean;
}

/**
 * Starts `argv` (inside the placement's namespace) as a recorded process and waits until `health`
 * answers 200; on failure stops it and throws ERR_WEFT_LAB_KUBE_START_FAILED naming `component` and its log.
 */
export async function startComponent(o: Placement, component: string, argv: readonly string[], health: Health, passFds?: readonly number[]): Promise<RunningComponent> {
  const started = await startProcess(o.procs, o.logs, o.id ?? component, inNetns(o.netns, argv), { cwd: o.dir, detached: o.detached, passFds });
  const running: RunningComponent = { component, record: started.record, log: started.record.log, exited: started.exited };
  try {
    await waitHealthy(o, component, started, health);
  } catch (err) {
    await stopComponent(o.procs, running);
    throw err;
  }
  return running;
}

async function waitHealthy(o: Placement, component: string, started: Started, health: Health): Promise<void> {
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  // Set from the exit listener; a holder object so that the checks below are not narrowed away.
  const seen: { exit?: { code: number | null; signal: NodeJS.Signals | null } } = {};
  void started.exited.then((e) => (seen.exit = e));
  const fail = (reason: string): WeftError =>
    new WeftError('ERR_WEFT_LAB_KUBE_START_FAILED', { component, reason, log: started.record.log, tail: logTail(started.record.log) });
  const exitedEarly = (): WeftError | undefined =>
    seen.exit ? fail(`exited with ${seen.exit.signal ?? `code ${seen.exit.code}`} before it was healthy`) : undefined;
  const probe = inNetns(health.fromHost ? undefined : o.netns, [process.execPath, '-e', HEALTH_PROBE, health.url, health.ca ?? '', health.cert ?? '', health.key ?? '', health.selfSigned ? '1' : '']);
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const early = exitedEarly();
    if (early) throw early;
    const r = await run(probe, { allowFailure: true, timeoutMs: 10_000 });
    if (r.code === 0) return;
    last = (r.stdout.trim() || r.stderr.trim()).slice(0, 300);
    await sleep(300);
  }
  throw fail(`${health.url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** The last lines of a log, for the error: whoever reads it may not have the file any more (a test's temp dir). */
export function logTail(path: string, lines = 4, maxChars = 800): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '(no log)';
  }
  const last = text.trimEnd().split('\n').slice(-lines).join(' | ');
  return last.length > maxChars ? `...${last.slice(-maxChars)}` : last || '(empty)';
}

/**
 * One GET, run with `node -e` so that it can leave from inside a network namespace: exit 0 on 200, else
 * prints the status or error and exits 1. CommonJS on purpose (`-e` without --input-type).
 */
const HEALTH_PROBE = `
const [url, ca, cert, key, selfSigned] = process.argv.slice(1);
const fs = require('node:fs');
const mod = url.startsWith('https:') ? require('node:https') : require('node:http');
const tls = url.startsWith('https:')
  ? { ca: ca ? fs.readFileSync(ca) : undefined, cert: cert ? fs.readFileSync(cert) : undefined, key: key ? fs.readFileSync(key) : undefined, rejectUnauthorized: selfSigned !== '1' }
  : {};
const req = mod.get(url, { ...tls, timeout: 3000 }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { if (body.length < 300) body += d; });
  res.on('end', () => {
    if (res.statusCode === 200) process.exit(0);
    process.stdout.write('HTTP ' + res.statusCode + ': ' + body.replace(/\\s+/g, ' ').slice(0, 250));
    process.exit(1);
  });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => { process.stdout.write(e.code || e.message); process.exit(1); });
`;
