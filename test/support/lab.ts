// A lab for E2E tests: `startLab({ nodes })` brings up a uniquely named lab through the built CLI
// (dist/cli/main.js, so the test drives exactly what users run) and hands back helpers. Always call
// `down()` in afterAll; labs still up when the test process exits are torn down by an exit hook.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../../lab/command.js';
import { labPaths, podNetns, type LabPaths } from '../../lab/names.js';
import { inPod } from '../../lab/pod-etc.js';
import { readLabInfo, type LabInfo } from '../../lab/state.js';
import { labStatus, type LabStatus } from '../../lab/status.js';
import { leftovers } from '../../lab/teardown.js';
import { waitPodsReady } from '../../lab/wait.js';

export { isRoot } from './root.js';
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Lab {
  readonly name: string;
  readonly paths: LabPaths;
  readonly info: LabInfo;
  /** `weft lab apply -f -` with this YAML; resolves with the CLI's output. */
  apply(yaml: string): Promise<string>;
  delete(yaml: string): Promise<string>;
  /** Waits until at least `minPods` pods exist and all are Ready. */
  waitPodsReady(options?: { timeoutMs?: number; minPods?: number }): Promise<LabStatus>;
  /** Runs argv in the pod as `weft lab exec` does: its network namespace and its /etc (hosts file). */
  exec(nsPod: string, argv: readonly string[], options?: { timeoutMs?: number }): Promise<RunResult>;
  status(): Promise<LabStatus>;
  /** Runs `weft lab <args> --name <lab>` through the CLI. */
  cli(args: readonly string[], input?: string): Promise<RunResult>;
  /** Tears everything down (idempotent); resolves with what was left behind afterwards. */
  down(): Promise<Awaited<ReturnType<typeof leftovers>>>;
}

const live = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort when a test run is interrupted: synchronous, because 'exit' handlers cannot await.
  process.on('exit', () => {
    for (const name of live) spawnSync(process.execPath, [CLI, 'lab', 'down', '--lab', name], { stdio: 'ignore' });
  });
}

export function uniqueLabName(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

async function cli(args: readonly string[], input?: string, timeoutMs = 120_000): Promise<RunResult> {
  return run([process.execPath, CLI, 'lab', ...args], { ...(input !== undefined ? { input } : {}), timeoutMs });
}

export async function startLab(options: { nodes: number; name?: string; /** false: no control plane or agents */ mesh?: boolean }): Promise<Lab> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the E2E tests`);
  const name = options.name ?? uniqueLabName();
  const paths = labPaths(name);
  live.add(name);
  hookExit();
  try {
    // The API server's bootstrap (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) on a loaded machine.
    await cli(['up', '--lab', name, '--nodes', String(options.nodes), ...(options.mesh === false ? ['--no-mesh'] : [])], undefined, 300_000);
  } catch (err) {
    await cli(['down', '--lab', name]).catch(() => undefined);
    live.delete(name);
    throw err;
  }
  const info = await readLabInfo(paths, name);
  return {
    name,
    paths,
    info,
    apply: async (yaml) => (await cli(['apply', '--lab', name, '-f', '-'], yaml)).stdout,
    delete: async (yaml) => (await cli(['delete', '--lab', name, '-f', '-'], yaml)).stdout,
    waitPodsReady: (o = {}) => waitPodsReady(info, o.timeoutMs ?? 120_000, o.minPods ?? 1),
    exec: (nsPod, argv, o = {}) => {
      const [ns, pod] = nsPod.split('/', 2) as [string, string];
      return run(inPod(paths, podNetns(name, ns, pod), argv), { allowFailure: true, timeoutMs: o.timeoutMs ?? 30_000 });
    },
    status: () => labStatus(info),
    cli: (args, input) => cli([...args, '--lab', name], input),
    down: async () => {
      await cli(['down', '--lab', name]);
      live.delete(name);
      return leftovers(name);
    },
  };
}
