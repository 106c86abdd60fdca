/**
 * `weft lab up --demo`: a small app in a namespace labelled for ambient capture — a frontend that calls
 * a backend Service (v1 and v2 behind one selector), a TCP echo Service, and a Debian client pod to try
 * things from.
 */
const probe = `
          readinessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 2
          livenessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 5
            failureThreshold: 3`;

function echoDeployment(name: string, labels: Record<string, string>, env: Record<string, string>): string {
  const lbl = Object.entries(labels).map(([k, v]) => `        ${k}: ${v}`).join('\n');
  const sel = Object.entries(labels).map(([k, v]) => `      ${k}: ${v}`).join('\n');
  const envs = Object.entries(env).map(([k, v]) => `            - { name: ${k}, value: "${v}" }`).join('\n');
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: demo }
spec:
  replicas: 1
  selector:
    matchLabels:
${sel}
  template:
    metadata:
      labels:
${lbl}
    spec:
      serviceAccountName: ${labels.app}
      containers:
        - name: echo
          image: weft/http-echo
          ports: [{ name: http, containerPort: 8080 }]
          env:
${envs}${probe}
`;
}

export const DEMO_MANIFESTS = [
  `apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels: { weft.dev/dataplane-mode: ambient }
`,
  ...['frontend', 'backend', 'tcp-echo'].map(
    (sa) => `apiVersion: v1
kind: ServiceAccount
metadata: { name: ${sa}, namespace: demo }
`,
  ),
  echoDeployment('frontend', { app: 'frontend' }, { VERSION: 'v1' }),
  echoDeployment('backend-v1', { app: 'backend', version: 'v1' }, { VERSION: 'v1' }),
  echoDeployment('backend-v2', { app: 'backend', version: 'v2' }, { VERSION: 'v2' }),
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: tcp-echo, namespace: demo }
spec:
  replicas: 1
  selector: { matchLabels: { app: tcp-echo } }
  template:
    metadata: { labels: { app: tcp-echo } }
    spec:
      serviceAccountName: tcp-echo
      containers:
        - name: echo
          image: weft/tcp-echo
          ports: [{ name: tcp, containerPort: 9000 }]
          readinessProbe:
            tcpSocket: { port: 9000 }
            periodSeconds: 2
`,
  `apiVersion: v1
kind: Pod
metadata: { name: client, namespace: demo, labels: { app: client } }
spec:
  containers:
    - name: debian
      image: debian
      command: [sleep, infinity]
`,
  `apiVersion: v1
kind: Service
metadata: { name: frontend, namespace: demo }
spec:
  selector: { app: frontend }
  ports: [{ name: http, port: 80, targetPort: 8080, appProtocol: http }]
`,
  `apiVersion: v1
kind: Service
metadata: { name: backend, namespace: demo }
spec:
  selector: { app: backend }
  ports: [{ name: http, port: 8080, targetPort: http, appProtocol: http }]
`,
  `apiVersion: v1
kind: Service
metadata: { name: tcp-echo, namespace: demo }
spec:
  selector: { app: tcp-echo }
  ports: [{ name: tcp, port: 9000, targetPort: 9000 }]
`,
].join('---\n');

export function demoHints(lab: string): string {
  const flag = lab === 'lab' ? '' : ` --lab ${lab}`;
  const cmd = (sub: string): string => `  weft lab ${sub}${flag}`;
  const x = (c: string): string => `  weft lab exec${flag} demo/client -- ${c}`;
  return [
    'The demo runs in namespace `demo` (labelled weft.dev/dataplane-mode=ambient). Try:',
    cmd('status'),
    x('curl -s http://frontend/'),
    x("curl -s 'http://frontend/forward?url=http://backend:8080/'   # frontend -> backend v1 or v2"),
    x("curl -s 'http://backend:8080/?status=503&delay=200'         # make the echo fail or wait"),
    x("bash -c 'exec 3<>/dev/tcp/tcp-echo/9000; echo hello >&3; head -1 <&3'"),
    `  weft lab logs${flag} demo/client        # or: kubelet-n1, agent-n1, control, kube-scheduler`,
    cmd('down'),
    '(`weft` is `node dist/cli/main.js` in a checkout.)',
  ].join('\n');
}
