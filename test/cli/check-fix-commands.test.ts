// Pins that the commands `weft check` and `weft waypoint delete` print run as printed where the user is:
// against a lab they name it (`--lab <name>`) and change an object through the lab's apply, against a
// Kubernetes cluster they are plain `weft` and `kubectl edit`. The analyzers that use them run on a
// real API server (cli/on-kube/*-findings.ts); here only the target decides. A certificate's fix:
// check-certificate-findings.test.ts.
import { expect, it } from 'vitest';
import { editAdvice, weftCommand } from '../../cli/check/context.js';
import type { ClusterTarget } from '../../lib/kube/cluster-client.js';

const lab = { target: { kind: 'lab', name: 't1', dir: '/nonexistent/t1/cluster' } satisfies ClusterTarget };
const cluster = { target: { kind: 'kubernetes', context: 'kind-x', server: 'https://127.0.0.1:6443' } satisfies ClusterTarget };

it('weft commands name the lab; on a cluster they are plain', () => {
  expect(weftCommand(lab, 'waypoint apply -n demo --name wp --wait')).toBe('weft waypoint apply -n demo --name wp --wait --lab t1');
  expect(weftCommand(cluster, 'waypoint apply -n demo --name wp --wait')).toBe('weft waypoint apply -n demo --name wp --wait');
});

it("an object is changed through the lab's apply in a lab, kubectl edit on a cluster", () => {
  expect(editAdvice(lab, 'GRPCRoute', 'demo', 'gw')).toBe('apply the corrected manifest of GRPCRoute demo/gw: `sudo weft lab apply --lab t1 -f <file>`');
  expect(editAdvice(cluster, 'GRPCRoute', 'demo', 'gw')).toBe('edit it: `kubectl -n demo edit grpcroute gw`');
});

