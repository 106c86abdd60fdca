// Runs weft-cni as the container runtime does: a child process with the CNI environment (and nothing
// else from ours), the config on stdin, the result on stdout.
//
// Which build runs is WEFT_CNI_PLUGIN: unset or `native` → dist/cni/weft-cni (`npm run build:cni`);
// `asan` → dist/cni/weft-cni-asan (AddressSanitizer + LeakSanitizer + UBSan, `npm run build:cni -- --asan`),
// so that every test in test/cni can run against the sanitizer build; anything else is a path.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST_CNI = new URL('../../dist/cni/', import.meta.url);

export function pluginBinFor(choice: string | undefined): string {
  if (choice === undefined || choice === '' || choice === 'native') return fileURLToPath(new URL('weft-cni', DIST_CNI));
  if (choice === 'asan') return fileURLToPath(new URL('weft-cni-asan', DIST_CNI));
  return choice;
}

export const PLUGIN_BIN = pluginBinFor(process.env.WEFT_CNI_PLUGIN);

/**
 * Sanitizer settings for the ASan build (ignored by the release build): any report ends the process with
 * its own exit code, so a test sees a failure rather than a plugin that limped on.
 */
export const SANITIZER_ENV: Readonly<Record<string, string>> = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
};

/** What a sanitizer prints when it finds something. */
export const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

/** The environment the plugin process gets: PATH, the sanitizer settings, and the CNI variables. */
export function pluginProcessEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...SANITIZER_ENV, ...env };
}

export interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly ms: number;
}

/** `bin` is the plugin executable (default: the one WEFT_CNI_PLUGIN selects). */
export function runPlugin(env: Record<string, string>, stdin: string, opts: { bin?: string; killAfterMs?: number } = {}): Promise<Run> {
  const started = performance.now();
  const child = spawn(opts.bin ?? PLUGIN_BIN, [], { env: pluginProcessEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A hung plugin is a failure, not a hung test run.
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 20_000);
  child.stdin.on('error', () => {});
  child.stdin.end(stdin);
  return new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ stdout, stderr, exitCode: code, ms: performance.now() - started });
    });
  });
}

/** A CNI environment for a Kubernetes pod, overridable per test. */
export function podEnv(command: string, over: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'c0ffee01',
    CNI_NETNS: '/var/run/netns/weft-test-pod',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-7d4f9;K8S_POD_INFRA_CONTAINER_ID=c0ffee01;K8S_POD_UID=3f1c6a52-0c1e-4b6e-9a55-2c3a1e0b9d11',
    ...over,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A previous result as the bridge plugin prints it (CNI 1.0.0). */
export const BRIDGE_RESULT = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '7a:2f:0e:11:22:33' },
    { name: 'veth1a2b3c4d', mac: '4e:aa:bb:cc:dd:ee' },
    { name: 'eth0', mac: '2a:01:02:03:04:05', sandbox: '/var/run/netns/weft-test-pod' },
  ],
  ips: [{ interface: 2, address: '10.244.1.7/24', gateway: '10.244.1.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

export function weftConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: 'weft-lab', type: 'weft-cni', prevResult: BRIDGE_RESULT, ...over };
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details: string;
}

export function cniError(run: { stdout: string; exitCode: number | null }): CniErrorJson {
  if (run.exitCode === 0) throw new Error(`expected a failure, got exit 0 with ${run.stdout}`);
  return JSON.parse(run.stdout) as CniErrorJson;
}
