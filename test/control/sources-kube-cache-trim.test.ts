// Pins what the Kubernetes source keeps of a Pod (control/sources/kube-cache-trim.ts): the fields the
// control plane reads, nothing of the API server's defaults, and a trimmed pod still validates.
import { describe, expect, it } from 'vitest';
import { trimForCache } from '../../control/sources/kube-cache-trim.js';
import { validateObject } from '../../control/sources/schemas.js';

// A pod as the API server returns it after admission and a kubelet's status update (abridged).
function servedPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'cart-1',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { app: 'cart' },
      annotations: { 'weft.dev/netns': '/run/netns/x' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-5d9', uid: 'rs', controller: true }],
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      nodeName: 'n1',
      serviceAccountName: 'cart',
      hostNetwork: false,
      containers: [
        {
          name: 'app',
          image: 'cart:1',
          env: [{ name: 'A', value: 'b' }],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      podIP: '10.244.1.7',
      podIPs: [{ ip: '10.244.1.7' }],
      hostIP: '172.18.0.2',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-07T19:00:00Z', lastProbeTime: null }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'cart:1', imageID: 'x', state: { running: {} } }],
      startTime: '2026-12-07T19:00:00Z',
    },
  };
}

describe('the Kubernetes source trims what it caches', () => {
  it('keeps of a Pod only what the control plane reads', () => {
    const pod = trimForCache(servedPod());
    expect(pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'cart-1',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { app: 'cart' },
        annotations: { 'weft.dev/netns': '/run/netns/x' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-5d9', uid: 'rs', controller: true }],
      },
      spec: { nodeName: 'n1', serviceAccountName: 'cart', hostNetwork: false, containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
      status: { phase: 'Running', podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }], hostIP: '172.18.0.2', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(validateObject(pod).ok).toBe(true);
  });

  it('trims list items, which carry no kind, by the kind the caller names', () => {
    const { kind: _kind, apiVersion: _v, ...item } = servedPod();
    const trimmed = trimForCache(item, 'Pod');
    expect(trimmed.spec).not.toHaveProperty('tolerations');
    expect(trimmed.status).not.toHaveProperty('containerStatuses');
  });

  it('drops only managedFields from other kinds', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'cart', namespace: 'shop', managedFields: [{ manager: 'kubectl' }] },
      spec: { selector: { app: 'cart' }, ports: [{ port: 80 }], sessionAffinity: 'None' },
    };
    expect(trimForCache(service)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'cart', namespace: 'shop' },
      spec: { selector: { app: 'cart' }, ports: [{ port: 80 }], sessionAffinity: 'None' },
    });
  });

  it('leaves a pod without spec or status (a watch bookmark) as it is', () => {
    const bookmark = { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '77' } };
    expect(trimForCache(bookmark)).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '77' } });
  });
});
