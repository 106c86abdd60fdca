// Pins the lab kubelet's pod lifecycle: restartPolicy (Always restarts a crashing container, Never lets
// a finished pod be Succeeded), a failing liveness probe restarts the container, a failing readiness
// probe keeps the pod out of Service endpoints, an unknown image is refused at apply, and deleting a pod
// removes its namespace, hosts dir and status.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { podNetns } from '../../lab/names.js';
import { podEtcDir } from '../../lab/pod-etc.js';
import { netnsExists } from '../../lab/netns.js';
import { startLab, type Lab } from '../support/lab.js';
import { describeRoot } from '../support/root.js';

const PODS = `
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

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

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
    await until('crash restarted twice', async () => ((await lab.status()).pods.find((p) => p.name === 'crash')?.restarts ?? 0) >= 2 || undefined);
    const once = await until('once to finish', async () => {
      const p = (await lab.status()).pods.find((x) => x.name === 'once');
      return p?.phase === 'Succeeded' ? p : undefined;
    });
    expect(once.restarts).toBe(0);
  });

  it('a failing liveness probe restarts the container', async () => {
    await until('unlive restarted', async () => ((await lab.status()).pods.find((p) => p.name === 'unlive')?.restarts ?? 0) >= 1 || undefined);
  });

  it('a failing readiness probe keeps the pod Running but out of the Service endpoints', async () => {
    const unready = await until('unready running', async () => {
      const p = (await lab.status()).pods.find((x) => x.name === 'unready');
      return p?.phase === 'Running' && p.ip ? p : undefined;
    });
    await new Promise((r) => setTimeout(r, 3000)); // several readiness periods
    const s = await lab.status();
    expect(s.pods.find((p) => p.name === 'unready')!.ready).toBe(false);
    const rules = await run(['ip', 'netns', 'exec', lab.info.nodes[0].netns, 'nft', 'list', 'table', 'ip', 'weftlab']);
    expect(rules.stdout).not.toContain(unready.ip);
  });

  it('an unknown image is refused at apply with a clear error', async () => {
    const err = await lab
      .apply('apiVersion: v1\nkind: Pod\nmetadata: { name: nope, namespace: k }\nspec: { containers: [{ name: c, image: nginx:1.25 }] }\n')
      .catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('ERR_WEFT_LAB_UNKNOWN_IMAGE');
    expect((await lab.status()).pods.some((p) => p.name === 'nope')).toBe(false);
  });

  it('deleting a pod removes its namespace, hosts dir and status', async () => {
    const netns = podNetns(lab.name, 'k', 'once');
    expect(await netnsExists(netns)).toBe(true);
    await lab.delete('apiVersion: v1\nkind: Pod\nmetadata: { name: once, namespace: k }\nspec: { containers: [{ name: c, image: debian }] }\n');
    await until('once removed', async () => (!(await netnsExists(netns)) ? true : undefined));
    expect(existsSync(podEtcDir(lab.paths, netns))).toBe(false);
    expect(existsSync(`${lab.paths.status}/Pod.k.once.yaml`)).toBe(false);
  });
});
