// The lab the chart's E2E files share (issue 11 step 5): a 2-node lab without the lab's own mesh, its admin
// kubeconfig for the real kubectl and helm on the host, the pinned Gateway API CRDs applied server-side and
// Established (the chart's GatewayClass needs them, docs/install.md), and — unless a file installs the chart
// itself — `helm install weft ./helm/weft -n <namespace> --create-namespace --wait` typed as a user types it.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunResult } from '../../lab/command.js';
import { cleanupHelmHome, helm, ROOT, type HelmRun } from '../helm/chart.js';
import { kubectlOn } from './kube-tools.js';
import { startLab, type Lab } from './lab.js';

export const GATEWAY_CRDS = join(import.meta.dirname, '..', '..', 'third_party', 'gateway-api', 'v1.7.0', 'standard');

export interface ChartLab {
  readonly lab: Lab;
  readonly kubeconfig: string;
  /** The real kubectl with the lab's kubeconfig. */
  k(args: readonly string[], input?: string): Promise<RunResult>;
  /** A helm command line as a user types it in the repository's root, with KUBECONFIG exported; fails the test unless it exits 0. */
  typed(line: string): Promise<HelmRun>;
  /** Tears the lab down and removes the test's Helm home. */
  down(): Promise<void>;
}

/** `install`: the helm install line to type once the CRDs are there (none: the file installs it itself). */
export async function startChartLab(o: { install?: string } = {}): Promise<ChartLab> {
  const lab = await startLab({ nodes: 2, mesh: false });
  const kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
  const k = (args: readonly string[], input?: string) => kubectlOn(kubeconfig, args, { input });
  const typed = async (line: string) => {
    const r = await helm(line.split(' ').slice(1), { kubeconfig, cwd: ROOT });
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    return r;
  };
  const chartLab: ChartLab = { lab, kubeconfig, k, typed, down: async () => { await lab.down(); await cleanupHelmHome(); } };
  try {
    await k(['apply', '--server-side', '-f', GATEWAY_CRDS]);
    await k(['wait', '--for=condition=Established', '--timeout=120s', 'crd', '--all']);
    if (o.install !== undefined) await typed(o.install);
  } catch (err) {
    await chartLab.down();
    throw err;
  }
  return chartLab;
}
