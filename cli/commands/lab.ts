import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { DEFAULT_LAB_NAME, LAB_STATE_ROOT, labPaths, type LabPaths } from '../../lab/names.js';
import { theRunningLab } from '../kube/connect.js';
import type { LabInfo } from '../../lab/state.js';
import { labNameArg } from '../arg-names.js';

// `weft lab ...`: a multi-node cluster of network namespaces on this machine (lab/). Every subcommand
// needs root (namespaces, nftables, mounts) and exits 2 without it. The lab's modules (manifest schemas,
// runtime, logger) load inside the handlers: `weft --help` and the cluster commands do not pay for them.

interface LabArgs {
  /** Unset until chooseLab (or `up`) fills it in. */
  lab?: string;
  /** Deprecated spelling of --lab (the cluster commands always took --lab); removed in the next release. */
  name?: string;
  'state-root'?: string;
}

function requireRoot(what: string): void {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) throw new WeftError('ERR_WEFT_NOT_ROOT', { what, uid });
}

/** --lab, as every weft command that talks to a lab spells it; --name still works, with a warning, for one release. */
function withLab<T>(y: Argv<T>): Argv<T & LabArgs> {
  return y
    .option('lab', { type: 'string', coerce: labNameArg, describe: `lab name (1-16 lowercase letters/digits); default: the one running lab (several: refused), else ${DEFAULT_LAB_NAME}` })
    .option('name', { type: 'string', hidden: true, coerce: labNameArg, describe: 'deprecated: use --lab' })
    .option('state-root', { type: 'string', hidden: true, describe: 'state directory root (tests)' })
    .middleware((a) => takeDeprecatedName(a));
}

function takeDeprecatedName(a: LabArgs): void {
  if (a.name === undefined) return;
  if (a.lab !== undefined && a.lab !== a.name) {
    throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--name ${a.name} and --lab ${a.lab} name different labs; --name is the deprecated spelling of --lab, pass only --lab` });
  }
  process.stderr.write('warning: --name is deprecated for lab commands and will be removed in the next release; use --lab\n');
  a.lab = a.name;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/**
 * Sets `a.lab` when --lab was not given: the one running lab, or the default name when none runs; several
 * running are refused (ERR_WEFT_CLI_LAB_AMBIGUOUS, exit 2). Done in the handler, not at parse time, so that
 * parsing a command never reads the machine's labs.
 */
function chooseLab(a: LabArgs): asserts a is LabArgs & { lab: string } {
  a.lab ??= theRunningLab(a['state-root'] ?? LAB_STATE_ROOT) ?? DEFAULT_LAB_NAME;
}

async function context(a: LabArgs): Promise<{ info: LabInfo; paths: LabPaths }> {
  chooseLab(a);
  const paths = labPaths(a.lab, a['state-root']);
  const { readLabInfo } = await import('../../lab/state.js');
  return { info: await readLabInfo(paths, a.lab), paths };
}

const up: CommandModule<object, LabArgs & { nodes: number; demo: boolean; wait: number; mesh: boolean }> = {
  command: 'up',
  describe: 'create (or complete) a lab: namespaces, bridge, nodes, kubelets, and the weft parts that are built',
  builder: (y) =>
    withLab(y)
      .option('nodes', { type: 'number', default: 2, describe: 'number of nodes' })
      .option('demo', { type: 'boolean', default: false, describe: 'deploy the demo app and print what to try' })
      .option('mesh', { type: 'boolean', default: true, describe: 'run weft-control and the node agents when built (--no-mesh: a plain cluster)' })
      .option('wait', { type: 'number', default: 180, describe: 'seconds to wait for the demo pods to be ready' }),
  handler: async (a) => {
    requireRoot('weft lab up');
    const lab = (a.lab ??= DEFAULT_LAB_NAME); // up creates: the default name, not whichever lab runs
    if (!Number.isInteger(a.nodes) || a.nodes < 1 || a.nodes > 16) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: '--nodes must be 1-16' });
    const [{ createLogger }, { labUp }] = await Promise.all([import('../../lib/telemetry/log.js'), import('../../lab/up.js')]);
    const log = createLogger({ name: 'weft-lab', level: process.env.WEFT_LOG_LEVEL ?? 'warn' });
    if (a.demo) console.log('starting the lab and the demo pods...');
    const info = await labUp({ name: lab, nodes: a.nodes, log, mesh: a.mesh, ...(a['state-root'] ? { stateRoot: a['state-root'] } : {}) });
    // The demo goes to the lab's API server as `weft lab apply` sends it, once the mesh that captures it runs.
    let demo: (() => void) | undefined;
    if (a.demo) {
      const [{ applyManifests }, { DEMO_MANIFESTS, demoHints }, { parseManifests }, { waitPodsReady }, { renderStatusTable }, { labClient }] = await Promise.all([
        import('../../lab/apply.js'),
        import('../../lab/demo.js'),
        import('../../lab/manifests.js'),
        import('../../lab/wait.js'),
        import('../../lab/status.js'),
        import('../../lab/kube/lab-client.js'),
      ]);
      const lines = await applyManifests(labClient(info), parseManifests(DEMO_MANIFESTS, 'demo'));
      const status = await waitPodsReady(info, a.wait * 1000, 5);
      demo = () => {
        for (const l of lines) console.log(`  ${l}`);
        process.stdout.write(renderStatusTable(status));
        console.log(`\n${demoHints(lab)}`);
      };
    }
    console.log(`lab ${lab} is up: ${info.nodes.length} nodes (${info.nodes.map((n) => `${n.name} ${n.ip} pods ${n.podCIDR}`).join(', ')})`);
    const why = a.mesh ? 'not built' : 'off (--no-mesh)';
    console.log(`  control plane: ${info.control ? 'weft-control in the root namespace (172.30.0.254:15012)' : `${why}: dist/control/main.js`}`);
    console.log(`  node agents: ${info.agent ? 'weft-node-agent in each node namespace, weft-cni chained' : `${why}: pods are not captured`}`);
    if (info.kube) {
      console.log(`  kubernetes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler in the root namespace (${info.kube.server}; on this host https://127.0.0.1:${info.kube.hostPort})`);
      console.log(`  kubectl and helm: \`kubectl --kubeconfig ${info.kube.kubeconfig} get namespaces\`, or as your own user: \`sudo weft lab kubeconfig --raw --lab ${lab} > weft-${lab}.kubeconfig\``);
    }
    if (info.prometheus) console.log(`  prometheus: scraping weft-control, the node agents and the waypoints (on this host http://127.0.0.1:${info.prometheus.hostPort}; \`sudo weft lab prometheus --lab ${lab}\`)`);
    demo?.();
  },
};

const down: CommandModule<object, LabArgs> = {
  command: 'down',
  describe: 'remove every namespace, link, process, mount and file of the lab (also after a crash)',
  builder: (y) => withLab(y),
  handler: async (a) => {
    requireRoot('weft lab down');
    chooseLab(a);
    const { teardownLab } = await import('../../lab/teardown.js');
    const r = await teardownLab(a.lab, a['state-root']);
    console.log(`lab ${a.lab} removed: ${r.processes} processes, ${r.namespaces.length} namespaces, ${r.etcDirs.length} /etc/netns dirs, ${r.mounts.length} mounts${r.stateDir ? ', state dir' : ''}`);
  },
};

const status: CommandModule<object, LabArgs & { output: string }> = {
  command: 'status',
  describe: 'nodes, pods and services of the lab',
  builder: (y) => withLab(y).option('output', { alias: 'o', choices: ['table', 'json'], default: 'table' }),
  handler: async (a) => {
    requireRoot('weft lab status');
    const { info } = await context(a);
    const { labStatus, renderStatusTable } = await import('../../lab/status.js');
    const s = await labStatus(info);
    if (a.output === 'json') console.log(JSON.stringify(s, null, 2));
    else process.stdout.write(renderStatusTable(s));
  },
};

const apply: CommandModule<object, LabArgs & { f: string }> = {
  command: 'apply',
  describe: "server-side apply of manifests to the lab's API server (as kubectl apply --server-side --force-conflicts): file, directory or - for stdin",
  builder: (y) => withLab(y).option('f', { alias: 'filename', type: 'string', demandOption: true, requiresArg: true, describe: 'file, directory or -' }),
  handler: async (a) => {
    requireRoot('weft lab apply');
    const { info } = await context(a);
    const [{ applyManifests, readInput }, { labClient }] = await Promise.all([import('../../lab/apply.js'), import('../../lab/kube/lab-client.js')]);
    const objects = await readInput(a.f, readStdin);
    for (const line of await applyManifests(labClient(info), objects)) console.log(line);
  },
};

const del: CommandModule<object, LabArgs & { f: string }> = {
  command: 'delete',
  describe: "delete the objects named in manifests from the lab's API server",
  builder: (y) => withLab(y).option('f', { alias: 'filename', type: 'string', demandOption: true, requiresArg: true, describe: 'file, directory or -' }),
  handler: async (a) => {
    requireRoot('weft lab delete');
    const { info } = await context(a);
    const [{ deleteManifests, readInput }, { labClient }] = await Promise.all([import('../../lab/apply.js'), import('../../lab/kube/lab-client.js')]);
    const objects = await readInput(a.f, readStdin);
    for (const line of await deleteManifests(labClient(info), objects)) console.log(line);
  },
};

const kubeconfig: CommandModule<object, LabArgs & { raw: boolean }> = {
  command: 'kubeconfig',
  describe: "the lab's admin kubeconfig for kubectl and helm on this host: prints its path (--raw: its content)",
  builder: (y) =>
    withLab(y)
      .option('raw', { type: 'boolean', default: false, describe: 'print the kubeconfig itself (certificates inline) instead of its path' })
      .example('kubectl --kubeconfig "$(sudo weft lab kubeconfig)" get namespaces', 'list the lab\'s namespaces')
      .example('sudo weft lab kubeconfig --raw > lab.kubeconfig', 'a copy your own user can read'),
  handler: async (a) => {
    requireRoot('weft lab kubeconfig');
    const { info } = await context(a);
    const { labKubeconfig } = await import('../../lab/kube/lab-kubeconfig.js');
    const k = await labKubeconfig(info, a['state-root']);
    process.stdout.write(a.raw ? k.content : `${k.path}\n`);
  },
};

const prometheus: CommandModule<object, LabArgs> = {
  command: 'prometheus',
  describe: "the address on this host of the lab's Prometheus (it scrapes weft-control, the node agents and the waypoints)",
  builder: (y) =>
    withLab(y).example('curl -s "$(sudo weft lab prometheus)/api/v1/query?query=up"', 'is every weft component scraped?'),
  handler: async (a) => {
    requireRoot('weft lab prometheus');
    chooseLab(a);
    const { labPrometheusHostUrl } = await import('../../lab/prometheus/host-url.js');
    console.log(await labPrometheusHostUrl(labPaths(a.lab, a['state-root']), a.lab));
  },
};

const exec: CommandModule<object, LabArgs & { pod: string; cmd: string[] }> = {
  command: 'exec <pod> [cmd..]',
  describe: 'run a command in a pod\'s network namespace: weft lab exec <ns>/<pod> -- <cmd...>',
  builder: (y) => withLab(y).positional('pod', { type: 'string', describe: '<namespace>/<pod>' }).parserConfiguration({ 'unknown-options-as-args': true }) as never,
  handler: async (a) => {
    requireRoot('weft lab exec');
    chooseLab(a);
    const { paths } = await context(a);
    const { ns, pod } = await podArg('weft lab exec', a.pod);
    const [{ podExecTarget }, { inPod }] = await Promise.all([import('../../lab/pod-exec-target.js'), import('../../lab/pod-etc.js')]);
    const target = await podExecTarget(paths, a.lab, ns, pod);
    if (!target) throw new WeftError('ERR_WEFT_LAB_POD_NOT_FOUND', { pod: `${ns}/${pod}`, lab: a.lab });
    // yargs moves what follows `--` out of the positionals: take it from argv as given.
    const dd = process.argv.indexOf('--');
    const cmd = dd >= 0 ? process.argv.slice(dd + 1) : (a.cmd ?? []).map(String);
    if (cmd.length === 0) cmd.push('sh');
    const argv = inPod(paths, target.netns, cmd, target.etc);
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, POD_NAME: pod, POD_NAMESPACE: ns } });
    const code = await new Promise<number>((resolve) => child.on('close', (c, s) => resolve(c ?? (s ? 128 : 1))));
    process.exit(code);
  },
};

const logs: CommandModule<object, LabArgs & { target: string; follow: boolean }> = {
  command: 'logs <target>',
  describe: 'print the log of a component (kubelet-<node>, control, agent-<node>, etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-forward) or a pod (<ns>/<pod>)',
  builder: (y) => withLab(y).positional('target', { type: 'string' }).option('follow', { alias: 'f', type: 'boolean', default: false }) as never,
  handler: async (a) => {
    requireRoot('weft lab logs');
    chooseLab(a);
    const { paths } = await context(a);
    const files = await logFiles(paths.logs, a.target);
    if (files.length === 0) {
      const known = (await readdir(paths.logs).catch(() => [] as string[])).map((f) => f.replace(/\.log$/, '').replace(/^pod-([^.]+)\.(.+)-[^-]+$/, '$1/$2'));
      throw new WeftError('ERR_WEFT_LAB_POD_NOT_FOUND', { pod: `${a.target} (logs exist for: ${[...new Set(known)].join(', ')})`, lab: a.lab });
    }
    if (a.follow) {
      const child = spawn('tail', ['-n', '+1', '-F', ...files], { stdio: 'inherit' });
      await new Promise((resolve) => child.on('close', resolve));
      return;
    }
    for (const f of files) {
      if (files.length > 1) console.log(`==> ${f} <==`);
      await new Promise<void>((resolve, reject) => createReadStream(f).on('end', resolve).on('error', reject).pipe(process.stdout, { end: false }));
    }
  },
};

/** `<namespace>/<pod>` (or `<pod>` in `default`), checked as Kubernetes names: they become paths. */
async function podArg(source: string, arg: string): Promise<{ ns: string; pod: string }> {
  const [ns, pod] = arg.includes('/') ? (arg.split('/', 2) as [string, string]) : ['default', arg];
  const { fieldError, isName, nameRuleText } = await import('../../lab/object-fields.js');
  if (!isName('dns1123-label', ns) || !isName('dns1123-subdomain', pod) || arg.split('/').length > 2) {
    throw fieldError(source, '<namespace>/<pod>', arg, `the namespace must be ${nameRuleText('dns1123-label')}; the pod ${nameRuleText('dns1123-subdomain')}`);
  }
  return { ns, pod };
}

async function logFiles(dir: string, target: string): Promise<string[]> {
  if (target.includes('/')) {
    const { ns, pod } = await podArg('weft lab logs', target);
    const prefix = `pod-${ns}.${pod}-`;
    return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith(prefix)).map((f) => join(dir, f));
  }
  const { fieldError, isName } = await import('../../lab/object-fields.js');
  if (!isName('dns1123-label', target)) throw fieldError('weft lab logs', 'target', target, 'must be controller, control, kubelet-<node>, agent-<node> or <namespace>/<pod>');
  const f = join(dir, `${target}.log`);
  return existsSync(f) ? [f] : [];
}

export const labCommand: CommandModule<object, object> = {
  command: 'lab <command>',
  describe: 'a multi-node cluster of network namespaces on this machine (needs root)',
  builder: (y) =>
    y
      .command(up)
      .command(down)
      .command(status)
      .command(apply)
      .command(del)
      .command(kubeconfig)
      .command(prometheus)
      .command(exec)
      .command(logs)
      .demandCommand(1, 'Name a lab command: up, down, status, kubeconfig, prometheus, apply, delete, exec, logs.'),
  handler: () => {},
};
