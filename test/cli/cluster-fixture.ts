/**
 * Test fixtures for the CLI: a Kubernetes API server double (test/support/kube-apiserver.ts) seeded with a
 * healthy weft install, two endpoints the double does not serve (SelfSubjectAccessReview and a settable
 * /version, added here by wrapping its HTTP server rather than editing the shared double), and temp lab
 * state roots.
 */
import type http from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFile } from 'node:fs/promises';
import { mintCa } from '../support/pki.js';
import type { KubeApiServerDouble} from '../support/kube-apiserver.js';
import { kubeconfigFor, type JsonObject } from '../support/kube-apiserver.js';
import { KubeClusterClient } from '../../cli/kube/kube-cluster.js';
import { LabClusterClient } from '../../cli/kube/lab-cluster.js';

export interface ApiExtras {
  /** What /version answers (default: the double's own answer). */
  version?: { major: string; minor: string; gitVersion: string };
  /** Decides SelfSubjectAccessReviews; default allows everything. */
  allow: (attrs: { verb: string; group: string; resource: string; namespace?: string }) => boolean;
}

/** Wraps the double's request handling so that /version and SSARs are answered from `extras`. */
export function addApiExtras(double: KubeApiServerDouble): ApiExtras {
  const extras: ApiExtras = { allow: () => true };
  const server = (double as unknown as { server: http.Server }).server;
  const original = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/version' && extras.version !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...extras.version, platform: 'linux/amd64' }));
      return;
    }
    if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { spec: { resourceAttributes: { verb: string; group?: string; resource: string; namespace?: string } } };
        const a = review.spec.resourceAttributes;
        const allowed = extras.allow({ verb: a.verb, group: a.group ?? '', resource: a.resource, ...(a.namespace === undefined ? {} : { namespace: a.namespace }) });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ ...review, status: { allowed } }));
      });
      return;
    }
    for (const l of original) l.call(server, req, res);
  });
  return extras;
}

export function kubeClient(double: KubeApiServerDouble): KubeClusterClient {
  return new KubeClusterClient(kubeconfigFor(double));
}

/** The part of the HTTPRoute CRD's schema `weft check` reads: whether a route's retries survive the API server. */
export const HTTPROUTE_SCHEMA_WITH_RETRY = { openAPIV3Schema: { properties: { spec: { properties: { rules: { items: { properties: { retry: { type: 'object' } } } } } } } } };

const crd = (name: string, annotations: Record<string, string> = {}, versions: JsonObject[] = [{ name: 'v1', served: true, storage: true }]): JsonObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name, annotations },
  spec: { group: name.slice(name.indexOf('.') + 1), versions },
  status: { conditions: [{ type: 'Established', status: 'True' }] },
});

const ready = (status: 'True' | 'False' = 'True'): JsonObject[] => [{ type: 'Ready', status }];

export interface HealthyOptions {
  nodes?: string[];
  caLifetimeDays?: number;
}

/** Seeds what a healthy install looks like: CRDs, GatewayClass accepted, control ready, agents + CNI on every node, CA. */
export async function seedHealthyInstall(double: KubeApiServerDouble, options: HealthyOptions = {}): Promise<void> {
  const ns = 'weft-system';
  const nodes = options.nodes ?? ['node-a', 'node-b'];
  const gw = { 'gateway.networking.k8s.io/bundle-version': 'v1.6.2', 'gateway.networking.k8s.io/channel': 'experimental' };
  for (const p of ['gatewayclasses', 'gateways', 'grpcroutes']) double.put(crd(`${p}.gateway.networking.k8s.io`, gw));
  double.put(crd('httproutes.gateway.networking.k8s.io', gw, [{ name: 'v1', served: true, storage: true, schema: HTTPROUTE_SCHEMA_WITH_RETRY }]));
  double.put(crd('authorizationpolicies.security.weft.dev', { 'weft.dev/bundle-version': 'v0.1.0' }, [{ name: 'v1alpha1', served: true, storage: true }]));
  double.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  double.put({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'weft-waypoint' },
    spec: { controllerName: 'weft.dev/waypoint-controller' },
    status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }] },
  });
  double.put({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'weft-control', namespace: ns },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'control' }] } } },
    status: { replicas: 1, readyReplicas: 1 },
  });
  double.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'weft-node-agent', namespace: ns }, spec: {}, status: { numberReady: nodes.length } });
  double.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'weft-control-abcde', namespace: ns, labels: { 'app.kubernetes.io/name': 'weft-control', 'app.kubernetes.io/version': '0.1.0' } },
    spec: { containers: [{ name: 'control', image: 'ghcr.io/weft-mesh/weft:0.1.0' }] },
    status: { conditions: ready() },
  });
  for (const n of nodes) {
    double.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n, labels: { 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: { conditions: ready(), nodeInfo: { kernelVersion: '6.1.0-13-amd64', operatingSystem: 'linux', architecture: 'amd64' } },
    });
    double.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `weft-node-agent-${n}`, namespace: ns, labels: { 'app.kubernetes.io/name': 'weft-node-agent' } },
      spec: { nodeName: n, containers: [{ name: 'node-agent' }, { name: 'install-cni' }] },
      status: { conditions: ready(), containerStatuses: [{ name: 'node-agent', ready: true }, { name: 'install-cni', ready: true }] },
    });
  }
  const ca = await mintCa('cluster.local');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  double.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-ca', namespace: ns }, type: 'weft.dev/ca', data: { 'ca.crt': b64(ca.certPem), 'ca.key': b64(ca.keyPem) } });
  double.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-ca-root', namespace: ns }, data: { 'root-cert.pem': ca.rootsPem.join('\n') } });
}

/** A temp lab state root with one lab's cluster dir (manifests/, pods/, status/, generated/). */
export async function tempLab(name = 'lab'): Promise<{ root: string; client: LabClusterClient; cluster: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'weft-t-cli-lab-'));
  const cluster = join(root, name, 'cluster');
  for (const d of ['manifests', 'pods', 'status', 'generated']) await mkdir(join(cluster, d), { recursive: true });
  return { root, cluster, client: await new LabClusterClient(name, root).ensureExists(), cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function writeYaml(path: string, obj: unknown): Promise<void> {
  await writeFile(path, stringify(obj));
}

export function capture(): { out: string[]; err: string[]; printer: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, printer: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}
