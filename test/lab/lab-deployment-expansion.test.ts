// Pins the lab's Deployment controller and scheduler: a Deployment wants `replicas` Pods carrying the
// template's labels, a template hash and an owner reference; scaling and template changes remove the
// right Pods; Pods of deleted Deployments are orphans; round robin cycles through the nodes.
import { describe, expect, it } from 'vitest';
import { labelsMatch, newPodFor, orphans, planDeployment, randomSuffix, roundRobin, templateHash } from '../../lab/deployments.js';
import type { KubeObject } from '../../lab/manifests.js';

function deployment(replicas: number, image = 'weft/http-echo'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo', uid: 'd-uid' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}

describe('deployment expansion', () => {
  it('creates replicas Pods with template labels, hash label and owner reference', () => {
    const d = deployment(3);
    expect(planDeployment(d, [])).toEqual({ create: 3, remove: [] });
    const pod = newPodFor(d, 'web-abcde', 'p-uid', new Date(0));
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata).toMatchObject({
      name: 'web-abcde',
      namespace: 'demo',
      uid: 'p-uid',
      labels: { app: 'web', 'pod-template-hash': templateHash(d) },
      ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    });
    expect(pod.spec).toEqual({ containers: [{ name: 'c', image: 'weft/http-echo' }] });
  });

  it('scales down newest first and replaces Pods of a changed template', () => {
    const d = deployment(1);
    const p1 = newPodFor(d, 'web-aaaaa', 'u1', new Date(1000));
    const p2 = newPodFor(d, 'web-bbbbb', 'u2', new Date(2000));
    const plan = planDeployment(d, [p1, p2]);
    expect(plan.create).toBe(0);
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['web-bbbbb']);

    const changed = deployment(1, 'weft/tcp-echo');
    const plan2 = planDeployment(changed, [p1]);
    expect(plan2).toEqual({ create: 1, remove: [p1] });
  });

  it('finds orphans of deleted deployments and ignores bare Pods', () => {
    const d = deployment(1);
    const owned = newPodFor(d, 'web-aaaaa', 'u1', new Date());
    const bare: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: 'demo' }, spec: { containers: [] } };
    expect(orphans([owned, bare], [d])).toEqual([]);
    expect(orphans([owned, bare], [])).toEqual([owned]);
  });

  it('round robin cycles through the nodes; names use the Kubernetes suffix alphabet', () => {
    expect([0, 1, 2, 3].map((i) => roundRobin(['n1', 'n2', 'n3'], i))).toEqual(['n1', 'n2', 'n3', 'n1']);
    expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('selectors match on every label; an empty selector selects nothing', () => {
    expect(labelsMatch({ app: 'a' }, { app: 'a', v: '1' })).toBe(true);
    expect(labelsMatch({ app: 'a', v: '2' }, { app: 'a', v: '1' })).toBe(false);
    expect(labelsMatch({}, { app: 'a' })).toBe(false);
    expect(labelsMatch(undefined, { app: 'a' })).toBe(false);
  });
});
