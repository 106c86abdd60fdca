// Every unit test of the control plane and the CLI that talks to Kubernetes, against one real API server
// (etcd + kube-apiserver on loopback, RBAC on, the Gateway API and weft CRDs installed:
// test/support/kube-server.ts) for this file. One file and not one per concern because a start costs
// ~4-8 s here and the unit project runs two files at a time near its budget: the suites are modules of
// their own (control/on-kube/*.ts, cli/on-kube/*.ts, one concern each), run here in turn; reset() after
// every test removes what it made, so they do not depend on order. A test that needs the server started
// with other flags has a file and a server of its own (sources-kube-compaction.test.ts). Run one suite with
// `npx vitest run --project unit test/kube-api-server.test.ts -t '<its title>'`.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startKubeServer, type KubeServer } from './support/kube-server.js';
import { describeKubeTools } from './support/kube-tools.js';
import { describeCaRoot } from './control/on-kube/ca-root.js';
import { describeIdentity } from './control/on-kube/identity.js';
import { describeLeaderElection } from './control/on-kube/leader-election.js';
import { describeKubeSource } from './control/on-kube/source.js';
import { describeStatus } from './control/on-kube/status.js';
import { describeWaypoints } from './control/on-kube/waypoints.js';
import { describeAdminTarget } from './cli/on-kube/admin-target.js';
import { describeAgentFindings } from './cli/on-kube/agent-findings.js';
import { describeCheckPre } from './cli/on-kube/check-pre.js';
import { describeCheckCommand } from './cli/on-kube/check.js';
import { describeCheckLab } from './cli/on-kube/check-lab.js';
import { describeFindingsOutput } from './cli/on-kube/findings-output.js';
import { describeNamespaceCommand } from './cli/on-kube/namespace.js';
import { describePolicyFindings } from './cli/on-kube/policy-findings.js';
import { describeCliProcess } from './cli/on-kube/process.js';
import { describeRouteFindings } from './cli/on-kube/route-findings.js';
import { describeVersionCommand } from './cli/on-kube/version.js';
import { describeWaypointDeleteFailClosed } from './cli/on-kube/waypoint-delete-fail-closed.js';
import { describeWaypointCommand } from './cli/on-kube/waypoint.js';

describeKubeTools('control plane and CLI on a real API server', () => {
  let server: KubeServer | undefined;
  const kube = (): KubeServer => {
    if (server === undefined) throw new Error('the API server did not start (see beforeAll)');
    return server;
  };
  beforeAll(async () => {
    server = await startKubeServer();
  }, 120_000);
  afterEach(async () => {
    await server?.reset();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  describeKubeSource(kube);
  describeIdentity(kube);
  describeCaRoot(kube);
  describeLeaderElection(kube);
  describeStatus(kube);
  describeWaypoints(kube);
  describeNamespaceCommand(kube);
  describeWaypointCommand(kube);
  describeWaypointDeleteFailClosed(kube);
  describeCheckCommand(kube);
  describeCheckPre(kube);
  describeCheckLab(kube);
  describeFindingsOutput(kube);
  describeRouteFindings(kube);
  describePolicyFindings(kube);
  describeAgentFindings(kube);
  describeAdminTarget(kube);
  describeVersionCommand(kube);
  describeCliProcess(kube);
});
