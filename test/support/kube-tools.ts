/**
 * Suites that run the real Kubernetes components `scripts/install-tools` builds into .tools/bin (etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and need root for the lab's network
 * namespaces. Without root or without the binaries each suite fails saying what is missing (root.ts says
 * why), unless WEFT_TEST_SKIP_ROOT=1 / WEFT_TEST_SKIP_TOOLS=1 opt out on purpose.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../../lab/command.js';
import { describeRequiring, describeRoot } from './root.js';

export const TOOLS_BIN = join(import.meta.dirname, '..', '..', '.tools', 'bin');
export const KUBECTL = join(TOOLS_BIN, 'kubectl');
const KUBE_TOOLS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];

export function describeRootKube(title: string, body: () => void): void {
  describeRoot(title, () => describeKubeTools('with the Kubernetes components', body));
}

/** `describe` that needs the Kubernetes components scripts/install-tools builds (not root: loopback only). */
export function describeKubeTools(title: string, body: () => void): void {
  const missing = KUBE_TOOLS.filter((t) => !existsSync(join(TOOLS_BIN, t)));
  describeRequiring(missing.length === 0, `${missing.map((t) => `${TOOLS_BIN}/${t}`).join(', ')} missing: run scripts/install-tools`, 'WEFT_TEST_SKIP_TOOLS', title, body);
}

/** The real kubectl on the host with a kubeconfig; `allowFailure` to look at a refusal. */
export function kubectlOn(kubeconfig: string, args: readonly string[], o: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> {
  return run([KUBECTL, `--kubeconfig=${kubeconfig}`, ...args], { input: o.input, allowFailure: o.allowFailure, timeoutMs: 120_000 });
}
