import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubeClient } from './kube-client.js';

/**
 * Child process of bench/control-scale `--source kube`: creates the benchmark's cluster through the real
 * API server, as the directory mode writes it to files: namespaces (ambient), one ServiceAccount and one
 * Service per service index, pods bound to the simulated nodes with their status (podIP, Ready) written
 * through the status subresource, an EndpointSlice per Service (what the EndpointSlice controller would
 * write; no controller-manager runs), one node-agent pod per node and a TokenRequest'd pod-bound token for
 * each (audience weft, what a projected token gives the agent). Requests go over a keep-alive pool of 16
 * connections with the admin certificate; it reports the bench pod's uid over IPC and exits.
 */
export interface PopulateArgs {
  readonly kubeconfig: string;
  readonly tokenDir: string;
  readonly pods: number;
  readonly services: number;
  readonly watchers: number;
  readonly namespaces: number;
}

export interface Populated {
  readonly benchPod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly createMs: number;
  readonly requests: number;
}

const CONCURRENCY = 16;

async function main(args: PopulateArgs): Promise<Populated> {
  const client = await kubeClient(args.kubeconfig, CONCURRENCY);
  const call = client.call;
  /** Runs `f` over `items` with CONCURRENCY requests in flight. */
  const each = async <T>(items: readonly T[], f: (item: T) => Promise<unknown>): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) await f(items[next++]);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const t0 = Date.now();
  const perNs = args.services / args.namespaces;

  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } });
  await each(range(args.namespaces), (n) =>
    call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, labels: { 'weft.dev/dataplane-mode': 'ambient' } } }),
  );
  await call('POST', '/api/v1/namespaces/weft-system/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'weft-node-agent' } });
  await each(range(args.services), (s) => {
    const ns = `ns-${s % args.namespaces}`;
    const idx = Math.floor(s / args.namespaces);
    return Promise.all([
      call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `sa-${idx}` } }),
      call('POST', `/api/v1/namespaces/${ns}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${idx}` },
        spec: { selector: { app: `svc-${idx}` }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    ]);
  });
  // Nodes exist for the pods bound to them (TokenRequest names a pod's node in its claims).
  await each(range(args.watchers), (k) => call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: `n${k + 1}` } }));

  /** Pod i as the directory mode writes it (bench/control-scale/main.ts podDoc), without status. */
  const podIp = (i: number): string => `10.${244 + Math.floor(i / 65_000)}.${Math.floor(i / 250) % 256}.${(i % 250) + 2}`;
  const slices = new Map<string, { ns: string; svc: number; endpoints: unknown[] }>();
  let benchPod: Populated['benchPod'] | undefined;
  const createPod = async (ns: string, name: string, node: string, sa: string, labels: Record<string, string>, ip: string): Promise<string> => {
    const created = await call('POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { nodeName: node, serviceAccountName: sa, automountServiceAccountToken: false, containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    const status = { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } };
    await call('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, status, 'application/merge-patch+json');
    return (created.metadata as { uid: string }).uid;
  };
  await each(range(args.pods), async (i) => {
    const ns = `ns-${i % args.namespaces}`;
    const svc = Math.floor(i / args.namespaces) % perNs;
    const name = `pod-${i}`;
    const uid = await createPod(ns, name, `n${(i % args.watchers) + 1}`, `sa-${svc}`, { app: `svc-${svc}` }, podIp(i));
    if (i === 0) benchPod = { namespace: ns, name, uid };
    const key = `${ns}/${svc}`;
    let slice = slices.get(key);
    if (!slice) slices.set(key, (slice = { ns, svc, endpoints: [] }));
    slice.endpoints.push({ addresses: [podIp(i)], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: ns, name, uid } });
  });
  await each([...slices.values()], (s) =>
    call('POST', `/apis/discovery.k8s.io/v1/namespaces/${s.ns}/endpointslices`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${s.svc}-bench`, labels: { 'kubernetes.io/service-name': `svc-${s.svc}`, 'endpointslice.kubernetes.io/managed-by': 'weft-bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: s.endpoints,
    }),
  );
  await each(range(args.watchers), async (k) => {
    const name = `agent-n${k + 1}`;
    const uid = await createPod('weft-system', name, `n${k + 1}`, 'weft-node-agent', {}, `172.30.${Math.floor(k / 250)}.${(k % 250) + 1}`);
    const review = await call('POST', '/api/v1/namespaces/weft-system/serviceaccounts/weft-node-agent/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['weft'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } },
    });
    await writeFile(path.join(args.tokenDir, `n${k + 1}.token`), (review.status as { token: string }).token, { mode: 0o600 });
  });
  client.close();
  if (!benchPod) throw new Error('no pods were made');
  return { benchPod, createMs: Date.now() - t0, requests: client.requests };
}

main(JSON.parse(process.argv[2]) as PopulateArgs).then(
  (populated) => process.send?.({ type: 'populated', populated }, () => process.exit(0)),
  (err: unknown) => process.send?.({ type: 'failed', error: (err as Error).message }, () => process.exit(1)),
);
