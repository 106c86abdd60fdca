import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import { chainAdd, chainDel, resultIPv4, type CniRuntimeArgs, type PluginInvoker } from './cni-chain.js';
import { type Conflist, LOOPBACK_CONF } from './cni-conflist.js';
import { writeAtomic } from './atomic-file.js';
import type { LabPaths } from './names.js';
import { run } from './command.js';
import { deleteNetns, ensureNetns, inNetns, netnsPath } from './netns.js';
import { preparePodEtc, removePodEtc, writePodHosts } from './pod-etc.js';
import type { RuntimeRecord } from './pod-state.js';
import { renderHosts } from './services.js';

/**
 * A pod's sandbox on a lab node, as a container runtime makes it for the kubelet: the pod's network
 * namespace and /etc, then the node's conflist chain (CNI 1.0: loopback first, then ADD in order; DEL in
 * reverse on teardown; neither for a hostNetwork pod). Each step's progress is kept in the pod's runtime record (`<runtimeDir>/<ns>.<name>.json`),
 * so that a restarted kubelet can tear down what a previous one left.
 */
export interface PodSandboxOptions {
  readonly paths: LabPaths;
  readonly node: string;
  readonly runtimeDir: string;
  readonly invoke: PluginInvoker;
  readonly log: Logger;
  /** Extra names for each pod's hosts file (the control plane's in-cluster names). */
  readonly extraHosts: () => { ip: string; names: readonly string[] }[];
}

/** How the lab runs a CNI plugin: in the node's namespace, with the CNI environment and config on stdin. */
export function defaultInvoker(nodeNetnsName: string): PluginInvoker {
  return (call) => run(inNetns(nodeNetnsName, [call.path]), { env: call.env, input: call.stdin, allowFailure: true, timeoutMs: 60_000 });
}

/** Where a kubelet keeps a pod's runtime record: `<runtimeDir>/<namespace>.<name>.json`. */
export function runtimeRecordFile(runtimeDir: string, namespace: string, name: string): string {
  return join(runtimeDir, `${namespace}.${name}.json`);
}

export class PodSandbox {
  constructor(private readonly o: PodSandboxOptions) {}

  recordFile(rec: Pick<RuntimeRecord, 'namespace' | 'name'>): string {
    return runtimeRecordFile(this.o.runtimeDir, rec.namespace, rec.name);
  }

  /**
   * Creates the namespace and runs ADD; fills `rec.ip` and `rec.result`. A hostNetwork pod (`rec.hostNetns`,
   * `rec.ip` the node's address) gets only its /etc: it shares the node's namespace, and CNI is never called
   * for it, as a real kubelet's runtime does.
   */
  async setup(rec: RuntimeRecord): Promise<void> {
    if (rec.hostNetns !== undefined) {
      await preparePodEtc(this.o.paths, rec.netns, renderHosts({ namespace: rec.namespace, name: rec.name, ip: rec.ip ?? '127.0.0.1' }, [], this.o.extraHosts()));
      await writeAtomic(this.recordFile(rec), JSON.stringify(rec));
      return;
    }
    await deleteNetns(rec.netns); // a leftover of the same name would carry stale addresses
    await ensureNetns(rec.netns);
    await preparePodEtc(this.o.paths, rec.netns, renderHosts({ namespace: rec.namespace, name: rec.name, ip: '127.0.0.1' }, []));
    await writeAtomic(this.recordFile(rec), JSON.stringify(rec));
    await chainAdd(LOOPBACK_CONF, this.runtimeArgs(rec, 'lo'), this.chainDeps(rec));
    const list = await this.readConflist();
    const result = await chainAdd(list, this.runtimeArgs(rec, 'eth0'), this.chainDeps(rec));
    rec.result = result;
    rec.ip = resultIPv4(result);
    if (!rec.ip) throw new Error('the CNI result has no IPv4 address');
    await writeAtomic(this.recordFile(rec), JSON.stringify(rec));
    await writePodHosts(this.o.paths, rec.netns, renderHosts({ namespace: rec.namespace, name: rec.name, ip: rec.ip }, [], this.o.extraHosts()));
  }

  /** CNI DEL (a failure is logged: the namespace goes anyway), then the namespace and its /etc. */
  async teardown(rec: RuntimeRecord): Promise<void> {
    if (rec.hostNetns !== undefined) {
      await removePodEtc(this.o.paths, rec.netns); // the node's namespace stays
      return;
    }
    try {
      const list = await this.readConflist();
      await chainDel(list, this.runtimeArgs(rec, 'eth0'), rec.result, this.chainDeps(rec));
    } catch (err) {
      this.o.log.warn({ err, pod: `${rec.namespace}/${rec.name}` }, 'CNI DEL failed');
    }
    await chainDel(LOOPBACK_CONF, this.runtimeArgs(rec, 'lo'), undefined, this.chainDeps(rec)).catch(() => undefined);
    await deleteNetns(rec.netns);
    await removePodEtc(this.o.paths, rec.netns);
  }

  private async readConflist(): Promise<Conflist> {
    const dir = this.o.paths.node(this.o.node).confDir;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.conflist')).sort();
    if (files.length === 0) throw new Error(`no .conflist in ${dir}`);
    return JSON.parse(await readFile(join(dir, files[0]), 'utf8')) as Conflist;
  }

  private runtimeArgs(rec: RuntimeRecord, ifname: string): CniRuntimeArgs {
    return {
      containerId: rec.containerId,
      netns: netnsPath(rec.netns),
      ifname,
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: rec.namespace, K8S_POD_NAME: rec.name, K8S_POD_INFRA_CONTAINER_ID: rec.containerId, K8S_POD_UID: rec.uid },
      binDirs: [this.o.paths.node(this.o.node).binDir],
      capabilityArgs: { portMappings: [] },
    };
  }

  private chainDeps(rec: RuntimeRecord): { invoke: PluginInvoker; exists: (p: string) => boolean; podRef: string } {
    return { invoke: this.o.invoke, exists: existsSync, podRef: `${rec.namespace}/${rec.name}` };
  }
}
