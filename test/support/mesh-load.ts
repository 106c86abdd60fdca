// Mesh traffic for lab E2E tests: a captured HTTP echo pod manifest, and the lab's load generator
// (lab/apps/loadgen.ts) run in a captured client pod against a Service, with its JSON report (counts,
// and with --timeline every request and connection with epoch-ms times, to line outcomes up with events).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { podNetns } from '../../lab/names.js';
import { inPod } from '../../lab/pod-etc.js';
import type { Lab } from './lab.js';

/** A Pod running weft/http-echo on 8080 with a readiness probe, labelled app=<name>. Ends with `---`. */
export const echoPod = (name: string, namespace: string, node: string, serviceAccount: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace}, labels: { app: ${name} } }
spec:
  nodeName: ${node}
  serviceAccountName: ${serviceAccount}
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

/** A Service `name` on port 80 selecting app=<app>, to port 8080. */
export const httpService = (name: string, namespace: string, app: string): string => `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

export interface LoadResult {
  sent: number;
  completed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  requests: [number, number, number | string][];
  connections: [number, 1 | -1][];
}

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
}

/** Starts the load generator; resolves with its report (with the timeline) once it finished. */
export function startLoad(lab: Lab, o: LoadOptions): Promise<LoadResult> {
  const [ns, pod] = o.from.split('/', 2) as [string, string];
  const timeout = String(o.timeoutS ?? 45);
  const argv = inPod(lab.paths, podNetns(lab.name, ns, pod), [
    process.execPath, join(lab.info.distDir, 'lab/apps/loadgen.js'),
    '--target', o.target, '--rate', String(o.rate), '--duration', String(o.durationS),
    '--connections', '10', '--timeout', timeout, '--connect-timeout', timeout, '--timeline',
    ...(o.newConnections ? ['--new-connections'] : []),
  ]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 120) * 1000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(0, 2000)}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}
