// Mesh traffic for lab E2E tests: a captured HTTP echo pod manifest, and the lab's load generator
// (lab/apps/loadgen.ts) run in a captured client pod against a Service, with its JSON report (counts,
// and with --timeline every request and connection with epoch-ms times, to line outcomes up with events).
import type { Lab } from './lab.js';
import { startLoadgen, type LoadgenResult } from './loadgen.js';

/**
 * A ServiceAccount (the API server admits no pod of a missing one; applied again, nothing changes); none
 * for `default`, which the controller manager makes in every namespace. Ends with `---`.
 */
export const serviceAccount = (name: string, namespace: string): string => name === 'default' ? '' : `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}, namespace: ${namespace} }
---`;

/** A Pod running weft/http-echo on 8080 with a readiness probe, labelled app=<name>, and its ServiceAccount. Ends with `---`. */
export const echoPod = (name: string, namespace: string, node: string, serviceAccountName: string): string => `${serviceAccount(serviceAccountName, namespace)}
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace}, labels: { app: ${name} } }
spec:
  nodeName: ${node}
  serviceAccountName: ${serviceAccountName}
  containers:
    - name: app
      image: weft/http-echo
      ports: [{ containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---`;

/**
 * A one-replica Deployment of weft/http-echo on `node`, service account `name`. A new `restartedAt` changes
 * the pod template, as `kubectl rollout restart` does: every pod is replaced. With its ServiceAccount. Ends with `---`.
 */
export const echoDeployment = (name: string, namespace: string, node: string, restartedAt = '0'): string => `${serviceAccount(name, namespace)}
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} }, annotations: { restartedAt: "${restartedAt}" } }
    spec:
      nodeName: ${node}
      serviceAccountName: ${name}
      containers:
        - name: app
          image: weft/http-echo
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---`;

/** A Namespace whose pods are captured (ambient). Ends with `---`. */
export const ambientNamespace = (name: string): string => `
apiVersion: v1
kind: Namespace
metadata: { name: ${name}, labels: { weft.dev/dataplane-mode: ambient } }
---`;

/** A waypoint: a Gateway of class weft-waypoint named `name` with `replicas` replicas. Ends with `---`. */
export const waypointGateway = (namespace: string, replicas: number, name = 'waypoint'): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace}, annotations: { weft.dev/waypoint-replicas: "${replicas}" } }
spec:
  gatewayClassName: weft-waypoint
  listeners: [{ name: mesh, port: 15008, protocol: HBONE }]
---`;

/** An HTTPRoute `name` in `namespace` attached to port 80 of Service `parent` (in `parentNamespace`), all to `backend`:80. Ends with `---`. */
export const singleBackendRoute = (namespace: string, name: string, parent: string, backend: string, parentNamespace = namespace): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  parentRefs: [{ group: "", kind: Service, name: ${parent}, namespace: ${parentNamespace}, port: 80 }]
  rules:
    - backendRefs: [{ name: ${backend}, port: 80 }]
---`;

/** An L7 DENY AuthorizationPolicy on Service `service`: `method` requests to paths matching `path` (Istio glob). Ends with `---`. */
export const l7DenyPolicy = (namespace: string, name: string, service: string, method: string, path: string): string => `
apiVersion: security.weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  targetRefs: [{ kind: Service, group: "", name: ${service} }]
  action: DENY
  rules: [{ to: [{ operation: { methods: ["${method}"], paths: ["${path}"] } }] }]
---`;

/** A Service `name` on port 80 selecting app=<app>, to port 8080 (with `labels`, e.g. weft.dev/use-waypoint). */
export const httpService = (name: string, namespace: string, app: string, labels: Readonly<Record<string, string>> = {}): string => `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace}, labels: ${JSON.stringify(labels)} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

/** The load generator's report with its timeline (loadgen.ts runs it). */
export type LoadResult = LoadgenResult;

export interface LoadOptions {
  /** `<namespace>/<pod>` the load runs in (its netns and /etc, so Service names resolve). */
  readonly from: string;
  readonly target: string;
  readonly rate: number;
  readonly durationS: number;
  /** One TCP connection per request instead of a keep-alive pool. */
  readonly newConnections?: boolean;
  /** Request and connect timeout (s). */
  readonly timeoutS?: number;
  /** Stops the load early (its promise then rejects). */
  readonly signal?: AbortSignal;
}

/** Starts the load generator; resolves with its report (with the timeline) once it finished. */
export function startLoad(lab: Lab, o: LoadOptions): Promise<LoadResult> {
  const [ns, pod] = o.from.split('/', 2) as [string, string];
  const timeout = String(o.timeoutS ?? 45);
  return startLoadgen(lab, ns, pod, [
    '--target', o.target, '--rate', String(o.rate), '--duration', String(o.durationS),
    '--connections', '10', '--timeout', timeout, '--connect-timeout', timeout, '--timeline',
    ...(o.newConnections ? ['--new-connections'] : []),
  ], (o.durationS + 120) * 1000, o.signal);
}
