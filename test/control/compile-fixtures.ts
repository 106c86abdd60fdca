// Shared builders for the control-plane services tests: a real DirectorySource over a temp cluster
// directory (control/sources/files.ts), and Kubernetes-shaped objects as the lab writes them.
import { mkdtemp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DirectorySource } from '../../control/sources/files.js';
import { eventually } from '../support/eventually.js';

export interface ClusterDir {
  dir: string;
  source: DirectorySource;
  write(obj: Record<string, unknown>): Promise<void>;
  remove(obj: Record<string, unknown>): Promise<void>;
  /** Resolves after the source emitted its next change batch. */
  nextChange(): Promise<void>;
  close(): Promise<void>;
}

function fileOf(obj: Record<string, unknown>): string {
  const meta = obj.metadata as { name: string; namespace?: string };
  return `${String(obj.kind)}.${meta.namespace ? meta.namespace + '.' : ''}${meta.name}.yaml`;
}

export async function clusterDir(objects: Record<string, unknown>[] = []): Promise<ClusterDir> {
  const dir = await mkdtemp(path.join(tmpdir(), 'weft-tctl-'));
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests, { recursive: true });
  const write = async (obj: Record<string, unknown>): Promise<void> => {
    const file = path.join(manifests, fileOf(obj));
    await writeFile(file + '.tmp', stringify(obj));
    await rename(file + '.tmp', file);
  };
  for (const o of objects) await write(o);
  const source = new DirectorySource({ dir, debounceMs: 5, rescanIntervalMs: 200 });
  await source.start();
  return {
    dir,
    source,
    write,
    remove: (obj) => rm(path.join(manifests, fileOf(obj)), { force: true }),
    nextChange: () => new Promise((resolve) => source.once('change', () => resolve())),
    close: async () => {
      await source.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let uidSeq = 0;

export function namespace(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  node?: string;
  sa?: string;
  ip?: string;
  ready?: boolean;
  uid?: string;
  ports?: { name?: string; containerPort: number }[];
  annotations?: Record<string, string>;
}

export function pod(name: string, o: PodOpts = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', uid: o.uid ?? `uid-${name}-${++uidSeq}`, labels: o.labels ?? {}, annotations: o.annotations },
    spec: { nodeName: o.node ?? 'n1', serviceAccountName: o.sa ?? 'default', containers: [{ name: 'app', image: 'x', ports: o.ports ?? [] }] },
    status: {
      phase: 'Running',
      podIP: o.ip ?? '10.244.1.10',
      podIPs: [{ ip: o.ip ?? '10.244.1.10' }],
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

export function service(
  name: string,
  o: { ns?: string; selector?: Record<string, string>; ip?: string; labels?: Record<string, string>; ports?: Record<string, unknown>[]; owner?: string } = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      labels: o.labels ?? {},
      ownerReferences: o.owner ? [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: o.owner, uid: 'gw-uid' }] : undefined,
    },
    spec: { selector: o.selector ?? { app: name }, clusterIP: o.ip ?? '10.96.0.10', ports: o.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

export function waypointGateway(name: string, ns = 'default', labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: ns, labels },
    spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
}

/** The Deployment the waypoint controller generates for a Gateway (owned by it, running as `sa`). */
export function waypointDeployment(gateway: string, ns = 'default', sa = gateway): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: gateway, namespace: ns, ownerReferences: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gateway, uid: 'gw-uid' }] },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': gateway } },
      template: {
        metadata: { labels: { 'gateway.networking.k8s.io/gateway-name': gateway } },
        spec: { serviceAccountName: sa, containers: [{ name: 'waypoint', image: 'weft/waypoint' }] },
      },
    },
  };
}

/** `eventually` with the argument order these tests use. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await eventually(check, timeoutMs, what);
}

// ---- an in-process control server over real gRPC/TLS on loopback ----------------------------------

import { mintCa } from '../support/pki.js';
import type { CertificateAuthority } from '../../lib/identity/index.js';
import { Compiler } from '../../control/discovery/compile.js';
import { WatchService } from '../../control/discovery/watch-service.js';
import { CertifyService, type CertifyServiceOptions } from '../../control/identity/certify-service.js';
import { JwtTokenVerifier, generateTokenKeyPair, mintToken, type MintClaims } from '../../control/identity/tokens.js';
import { startControlServer, type ControlServer } from '../../control/grpc-server.js';

export interface TestControl {
  cluster: ClusterDir;
  ca: CertificateAuthority;
  server: ControlServer;
  watch: WatchService;
  address: string;
  caRootPem: string;
  /** The public half of the lab token key (what --token-public-key holds). */
  publicKeyPem: string;
  /** Writes a token file minted with the lab key; returns its path. */
  tokenFile(claims: MintClaims, options?: { lifetimeSeconds?: number; now?: Date; name?: string }): Promise<string>;
  token(claims: MintClaims, options?: { lifetimeSeconds?: number; now?: Date }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestControl(
  objects: Record<string, unknown>[],
  options: { authenticateWatch?: boolean; debounceMs?: number; certify?: Pick<CertifyServiceOptions, 'rateLimit' | 'logger' | 'registry'> } = {},
): Promise<TestControl> {
  const cluster = await clusterDir(objects);
  const ca = await mintCa();
  const keys = await generateTokenKeyPair();
  const verifier = new JwtTokenVerifier({ publicKeys: keys.publicKeyPem, audience: 'weft' });
  const compiler = new Compiler(cluster.source, { trustDomain: ca.trustDomain, endpoints: 'selectors' });
  const watch = new WatchService({
    source: cluster.source,
    compiler,
    verifier: options.authenticateWatch === false ? undefined : verifier,
    controlNamespace: 'weft-system',
    debounceMs: options.debounceMs ?? 10,
  });
  watch.setTrustBundle({ trustDomain: ca.trustDomain, roots: ca.rootsPem });
  watch.start();
  const certify = new CertifyService({ ca: () => ca, verifier, source: cluster.source, controlNamespace: 'weft-system', ...options.certify });
  const server = await startControlServer({ listen: '127.0.0.1:0', ca, namespace: 'weft-system', certify, watch });
  let n = 0;
  return {
    cluster,
    ca,
    server,
    watch,
    address: `127.0.0.1:${server.port}`,
    caRootPem: ca.rootsPem.join(''),
    publicKeyPem: keys.publicKeyPem,
    token: (claims, o) => mintToken(keys.privateKeyPem, claims, o),
    tokenFile: async (claims, o) => {
      const file = path.join(cluster.dir, o?.name ?? `token-${++n}`);
      await writeFile(file, await mintToken(keys.privateKeyPem, claims, o));
      return file;
    },
    close: async () => {
      watch.close();
      await server.close(2_000);
      await cluster.close();
    },
  };
}
