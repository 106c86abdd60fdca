// Pins the lab kubelet's pod lifecycle: restartPolicy (Always restarts a crashing container, Never lets
// a finished pod be Succeeded), a failing liveness probe restarts the container, a failing readiness
// probe keeps the pod out of Service endpoints, an unknown image leaves its pod Pending with reason
// ErrImagePull, and deleting a pod removes its namespace, hosts dir and Pod object.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { podNetns } from '../../lab/names.js';
import { podEtcDir } from '../../lab/pod-etc.js';
import { netnsExists } from '../../lab/netns.js';
import { startLab, type Lab } from '../support/lab.js';
import { eventually } from '../support/eventually.js';
import { describeRoot } from '../support/root.js';

const PODS = `
apiVersion: v1
kind: Namespace
metadata: { name: k }
---
apiVersion: v1
kind: Pod
metadata: { name: crash, namespace: k }
spec:
  restartPolicy: Always
  containers: [{ name: c, image: debian, command: [sh, -c, 'sleep 0.2; exit 3'] }]
---
apiVersion: v1
kind: Pod
metadata: { name: once, namespace: k }
spec:
  restartPolicy: Never
  containers: [{ name: c, image: debian, command: ['true'] }]
---
apiVersion: v1
kind: Pod
metadata: { name: unlive, namespace: k, labels: { app: echo } }
spec:
  containers:
    - name: echo
      image: weft/http-echo
      livenessProbe: { httpGet: { path: '/x?status=500', port: 8080 }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: unready, namespace: k, labels: { app: echo } }
spec:
  containers:
    - name: echo
      image: weft/http-echo
      readinessProbe: { httpGet: { path: '/x?status=503', port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: k }
spec:
  selector: { app: echo }
  ports: [{ port: 80, targetPort: 8080 }]
`;


describeRoot('weft lab kubelet (needs root: network namespaces)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ nodes: 1, mesh: false });
    await lab.apply(PODS);
  });
  afterAll(async () => {
    await lab?.down();
  });

  it('restartPolicy Always restarts a crashing container; Never leaves a finished pod Succeeded', async () => {
    await eventually(async () => ((await lab.status()).pods.find((p) => p.name === 'crash')?.restarts ?? 0) >= 2 || undefined, 60_000, 'crash restarted twice', 500);
    const once = await eventually(async () => {
      const p = (await lab.status()).pods.find((x) => x.name === 'once');
      return p?.phase === 'Succeeded' ? p : undefined;
    }, 60_000, 'once to finish', 500);
    expect(once.restarts).toBe(0);
  });

  it('a failing liveness probe restarts the container', async () => {
    await eventually(async () => ((await lab.status()).pods.find((p) => p.name === 'unlive')?.restarts ?? 0) >= 1 || undefined, 60_000, 'unlive restarted', 500);
  });

  it('a failing readiness probe keeps the pod Running but out of the Service endpoints', async () => {
    const unready = await eventually(async () => {
      const p = (await lab.status()).pods.find((x) => x.name === 'unready');
      return p?.phase === 'Running' && p.ip ? p : undefined;
    }, 60_000, 'unready running', 500);
    await new Promise((r) => setTimeout(r, 3000)); // several readiness periods
    const s = await lab.status();
    expect(s.pods.find((p) => p.name === 'unready')!.ready).toBe(false);
    const rules = await run(['ip', 'netns', 'exec', lab.info.nodes[0].netns, 'nft', 'list', 'table', 'ip', 'weftlab']);
    expect(rules.stdout).not.toContain(unready.ip);
  });

  it('an unknown image is applied, and its pod does not start: Pending with reason ErrImagePull, as a kubelet that cannot pull it says', async () => {
    expect(await lab.apply('apiVersion: v1\nkind: Pod\nmetadata: { name: nope, namespace: k }\nspec: { containers: [{ name: c, image: nginx:1.25 }] }\n')).toContain('pod/nope serverside-applied');
    const nope = await eventually(async () => (await lab.status()).pods.find((p) => p.name === 'nope' && p.reason !== undefined), 60_000, 'nope to report why it waits', 500);
    expect(nope).toMatchObject({ phase: 'Pending', reason: 'ErrImagePull', ready: false });
    // As kubectl 1.37 says it; a second delete finds nothing.
    expect(await lab.delete('apiVersion: v1\nkind: Pod\nmetadata: { name: nope, namespace: k }\n')).toBe('pod "nope" deleted from k namespace\n');
    expect(await lab.delete('apiVersion: v1\nkind: Pod\nmetadata: { name: nope, namespace: k }\n')).toMatch(/^pod "nope" (not found in k namespace|deleted from k namespace)\n$/);
  });

  it('deleting a pod removes its namespace, hosts dir and Pod object', async () => {
    const netns = podNetns(lab.name, 'k', 'once');
    expect(await netnsExists(netns)).toBe(true);
    await lab.delete('apiVersion: v1\nkind: Pod\nmetadata: { name: once, namespace: k }\nspec: { containers: [{ name: c, image: debian }] }\n');
    // The kubelet removes the namespace, then the pod's /etc, then the Pod itself: wait for all three.
    await eventually(async () => (!(await netnsExists(netns)) ? true : undefined), 60_000, 'once removed', 500);
    await eventually(() => (!existsSync(podEtcDir(lab.paths, netns)) ? true : undefined), 60_000, 'its /etc removed', 500);
    await eventually(async () => (!(await lab.status()).pods.some((p) => p.name === 'once') ? true : undefined), 60_000, 'its Pod removed', 500);
  });
});
