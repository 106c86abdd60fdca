import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/telemetry/log.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { type LabPaths, ROOT_UNDERLAY_IP, rootNetns } from '../names.js';
import { isRunning } from '../processes.js';
import { VIP_RANGE } from '../vip.js';
import {
  startEtcd,
  startKubeApiserver,
  startKubeControllerManager,
  startKubeScheduler,
  type Placement,
} from './components.js';
import { startLoopbackForward } from './loopback-forward.js';
import { ensureNodeCredentials, ensureProxyCredentials, nodeCredentialFiles, proxyCredentialFiles, type NodeCredentialFiles } from './node-credentials.js';
import { controlPlanePkiFiles, writeControlPlanePki, writeKubeconfig, type ControlPlanePki } from './pki.js';

/**
 * The lab's Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler in
 * the lab's root namespace (every object of the lab lives there: `weft lab apply`, the demo, weft-control), and a loopback forward
 * that gives the host an admin kubeconfig. The API server authorizes with Node,RBAC, signs
 * service-account tokens with the lab's own key (so projected tokens, TokenRequest and TokenReview are
 * real), allocates Service ClusterIPs from the lab's VIP range and runs the default admission plugins
 * plus NodeRestriction. Each lab node gets its kubelet's and kube-proxy's credentials here (node-credentials.ts), before
 * anything starts. Every part is a recorded lab process: `up` run again starts only what is not
 * running, `down` stops them all.
 */
export const APISERVER_PORT = 6443;
/** What every lab namespace dials: the root namespace's underlay address. */
export const LAB_APISERVER_URL = `https://${ROOT_UNDERLAY_IP}:${APISERVER_PORT}`;

export interface LabKubePaths {
  readonly dir: string;
  readonly pki: string;
  /** Admin kubeconfig for the host (via the loopback forward; certificates inline). */
  readonly adminKubeconfig: string;
  /** Admin kubeconfig for processes inside the lab's namespaces (LAB_APISERVER_URL). */
  readonly inLabAdminKubeconfig: string;
  readonly controllerManagerKubeconfig: string;
  readonly schedulerKubeconfig: string;
  /** A lab node's client certificate and kubeconfig (node-credentials.ts). */
  node(node: string): NodeCredentialFiles;
  /** kube-proxy's (every node's) client certificate and kubeconfig. */
  readonly proxy: NodeCredentialFiles;
}

export function labKubePaths(paths: LabPaths): LabKubePaths {
  const dir = join(paths.root, 'kube');
  return {
    dir,
    pki: join(dir, 'pki'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    inLabAdminKubeconfig: join(dir, 'admin-in-lab.kubeconfig'),
    controllerManagerKubeconfig: join(dir, 'kube-controller-manager.kubeconfig'),
    schedulerKubeconfig: join(dir, 'kube-scheduler.kubeconfig'),
    node: (node) => nodeCredentialFiles(dir, join(dir, 'pki'), node),
    proxy: proxyCredentialFiles(dir, join(dir, 'pki')),
  };
}

/** What `up` records in lab.json about the API server. */
export interface LabKubeInfo {
  /** The API server as lab namespaces reach it. */
  readonly server: string;
  /** The host's loopback port forwarded to it. */
  readonly hostPort: number;
  /** The host's admin kubeconfig. */
  readonly kubeconfig: string;
}

/** Process record ids (and log names: `weft lab logs kube-apiserver`), in start order. */
export const KUBE_PROCESS_IDS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-forward'] as const;

export interface EnsureLabKubeOptions {
  readonly lab: string;
  readonly paths: LabPaths;
  /** The host port of an earlier run, reused when the forward has to be started again. */
  readonly previous?: LabKubeInfo;
  /** The lab's node names: each gets its kubelet's credentials (before the API server starts). */
  readonly nodes?: readonly string[];
  readonly readyTimeoutMs?: number;
  readonly log?: Logger;
}

/** Starts whatever part of the lab's control plane is not running; resolves once all of it answers. */
export async function ensureLabKube(o: EnsureLabKubeOptions): Promise<LabKubeInfo> {
  const log = o.log ?? silentLogger;
  const k = labKubePaths(o.paths);
  const place: Placement = {
    procs: o.paths.procs,
    logs: o.paths.logs,
    dir: k.dir,
    netns: rootNetns(o.lab),
    detached: true,
    readyTimeoutMs: o.readyTimeoutMs ?? 120_000,
  };
  const running = (id: string): Promise<boolean> => isRunning(o.paths.procs, id);
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await f();
    log.info({ component: what, ms: Date.now() - t0 }, 'started');
    return r;
  };

  const pki = await ensurePki(k.pki);
  // Before anything starts: the kubelets, started beside the control plane, wait for these files.
  for (const node of o.nodes ?? []) await ensureNodeCredentials(pki, k.node(node), node, LAB_APISERVER_URL);
  if ((o.nodes ?? []).length > 0) await ensureProxyCredentials(pki, k.proxy, LAB_APISERVER_URL);
  if (!(await running('etcd'))) await timed('etcd', () => startEtcd({ ...place, id: 'etcd' }));
  if (!(await running('kube-apiserver'))) {
    await timed('kube-apiserver', () =>
      startKubeApiserver({
        ...place,
        id: 'kube-apiserver',
        pki,
        etcdServers: ['http://127.0.0.1:2379'],
        bindAddress: ROOT_UNDERLAY_IP,
        securePort: APISERVER_PORT,
        advertiseAddress: ROOT_UNDERLAY_IP,
        serviceClusterIpRange: VIP_RANGE,
        // Added to the default plugins (which stay on): kubelets may then change only their own Node and pods.
        extraArgs: ['--enable-admission-plugins=NodeRestriction'],
      }),
    );
  }
  await writeKubeconfig(k.controllerManagerKubeconfig, pki, 'kube-controller-manager', LAB_APISERVER_URL);
  await writeKubeconfig(k.schedulerKubeconfig, pki, 'kube-scheduler', LAB_APISERVER_URL);
  await writeKubeconfig(k.inLabAdminKubeconfig, pki, 'admin', LAB_APISERVER_URL, { name: `weft-${o.lab}` });

  const controllers = async (): Promise<void> => {
    if (!(await running('kube-controller-manager'))) {
      await timed('kube-controller-manager', () =>
        startKubeControllerManager({ ...place, id: 'kube-controller-manager', pki, kubeconfig: k.controllerManagerKubeconfig, serviceClusterIpRange: VIP_RANGE }),
      );
    }
    if (!(await running('kube-scheduler'))) await timed('kube-scheduler', () => startKubeScheduler({ ...place, id: 'kube-scheduler', kubeconfig: k.schedulerKubeconfig }));
  };
  const forward = async (): Promise<number> => {
    if (o.previous && (await running('kube-forward'))) return o.previous.hostPort;
    const admin = pki.clients.admin;
    const started = await timed('kube-forward', () =>
      startLoopbackForward({
        ...place,
        id: 'kube-forward',
        target: { host: ROOT_UNDERLAY_IP, port: APISERVER_PORT },
        port: o.previous?.hostPort,
        health: (port) => ({ url: `https://127.0.0.1:${port}/readyz`, ca: pki.caCert, cert: admin.cert, key: admin.key }),
      }),
    );
    return started.port;
  };
  // Independent of each other once the API server answers; both settle before a failure is thrown, so
  // that nothing is still starting behind it.
  const [c, f] = await Promise.allSettled([controllers(), forward()]);
  if (c.status === 'rejected') throw c.reason;
  if (f.status === 'rejected') throw f.reason;
  const hostPort = f.value;
  const server = `https://127.0.0.1:${hostPort}`;
  await writeKubeconfig(k.adminKubeconfig, pki, 'admin', server, { name: `weft-${o.lab}`, inline: true });
  return { server: LAB_APISERVER_URL, hostPort, kubeconfig: k.adminKubeconfig };
}

/** The lab's PKI, made at the first `up` (the serving certificate also names the underlay address). */
async function ensurePki(dir: string): Promise<ControlPlanePki> {
  const files = controlPlanePkiFiles(dir);
  // The service-account public key is written last: present means complete.
  if (existsSync(files.serviceAccountPub)) return files;
  return writeControlPlanePki(dir, { ips: [ROOT_UNDERLAY_IP] });
}
