import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readlink, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const exec = promisify(execFile);

export { isRoot } from './root.js';

export interface PodNet {
  /** Namespace name (prefixed). */
  readonly ns: string;
  /** `/var/run/netns/<ns>`. */
  readonly path: string;
  readonly ip: string;
}

/**
 * Small network-namespace fixtures for component tests: every namespace and link carries a unique
 * `weft-t<hex>-` prefix and `destroy()` removes all of them (and kills processes started here).
 * Topology: a "node" namespace with a bridge and gateway 10.88.0.1/24, pods attached by veth pairs,
 * default route via the gateway — the shape the lab and a Kubernetes bridge CNI give pods.
 */
export class NetnsSandbox {
  readonly prefix = `weft-t${randomBytes(3).toString('hex')}-`;
  readonly gateway = '10.88.0.1';
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private node: string | undefined;
  private next = 2;

  /** Creates the node namespace with its bridge. */
  async up(): Promise<void> {
    this.node = await this.addNs('node');
    await this.run(this.node, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await this.run(this.node, 'ip', ['addr', 'add', `${this.gateway}/24`, 'dev', 'br0']);
    await this.run(this.node, 'ip', ['link', 'set', 'br0', 'up']);
    await this.run(this.node, 'ip', ['link', 'set', 'lo', 'up']);
  }

  get nodeNs(): string {
    if (!this.node) throw new Error('NetnsSandbox.up() first');
    return this.node;
  }

  /** A pod namespace on the bridge with the next free address. */
  async pod(name: string): Promise<PodNet> {
    const ns = await this.addNs(name);
    const ip = `10.88.0.${this.next++}`;
    const host = `wv${this.prefix.slice(6, 12)}${this.next}`.slice(0, 15);
    await exec('ip', ['link', 'add', host, 'netns', this.nodeNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await this.run(this.nodeNs, 'ip', ['link', 'set', host, 'master', 'br0', 'up']);
    await this.run(ns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await this.run(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    await this.run(ns, 'ip', ['link', 'set', 'lo', 'up']);
    await this.run(ns, 'ip', ['route', 'add', 'default', 'via', this.gateway]);
    return { ns, path: `/var/run/netns/${ns}`, ip };
  }

  /** Runs a command inside a namespace; rejects with stderr on failure. */
  async run(ns: string, cmd: string, args: string[], input?: string): Promise<string> {
    const p = exec('ip', ['netns', 'exec', ns, cmd, ...args], { maxBuffer: 64 << 20 });
    if (input !== undefined) {
      p.child.stdin?.end(input);
    }
    const { stdout } = await p;
    return stdout;
  }

  /**
   * Runs TCP_CLIENT from `ns` to host:port sending `msg` (half-closed after): what it received, or how the
   * connection failed: `ERR <code>` (ECONNRESET, ECONNREFUSED, ...) or `ERR timeout` after `timeoutMs`.
   */
  talk(ns: string, host: string, port: number, msg = 'hello', timeoutMs = 10_000): Promise<string> {
    return this.run(ns, 'env', [`CLIENT_TIMEOUT_MS=${timeoutMs}`, process.execPath, '--input-type=module', '-e', TCP_CLIENT, host, String(port), msg]).catch(
      (e: { code?: number; stderr?: string }) => (e.code === 4 ? 'ERR timeout' : `ERR ${String(e.stderr ?? '').trim().split('\n').at(-1) ?? ''}`),
    );
  }

  /**
   * Waits until a process started with spawn() runs `comm` inside the namespace at `nsPath` (`ip netns
   * exec` has entered the namespace and exec'd the command): the real condition behind "give it a moment".
   */
  async running(child: ChildProcess, nsPath: string, comm: string): Promise<void> {
    const want = `net:[${(await stat(nsPath)).ino}]`;
    const where = `/proc/${child.pid ?? 0}`;
    await eventually(
      async () => (await readlink(`${where}/ns/net`).catch(() => '')) === want && (await readFile(`${where}/comm`, 'utf8').catch(() => '')).trim() === comm,
      10_000,
      `${comm} (pid ${child.pid}) running in ${nsPath}`,
    );
  }

  /** Starts a long-running process in a namespace; killed by destroy(). */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  async destroy(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    this.namespaces.length = 0;
  }

  private async addNs(name: string): Promise<string> {
    const ns = `${this.prefix}${name}`;
    await exec('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    return ns;
  }
}

/**
 * A TCP test client for `node -e` inside a pod netns: `node -e TCP_CLIENT <host> <port> [msg] [hold]`.
 * Connects, sends msg, half-closes unless "hold", prints what it receives; exit 0 on a clean end, 3 on
 * reset/error, 4 on timeout (CLIENT_TIMEOUT_MS, default 10 s).
 */
export const TCP_CLIENT = `
import { connect } from 'node:net';
const [host, port, msg = '', mode = ''] = process.argv.slice(1);
const s = connect({ host, port: Number(port), allowHalfOpen: true });
s.on('connect', () => {
  if (msg) s.write(msg);
  if (mode !== 'hold') s.end();
});
s.on('data', (d) => process.stdout.write(d));
s.on('end', () => s.end());
s.on('error', (e) => {
  process.stderr.write(\`\${e.code ?? e.message}\n\`);
  process.exit(3);
});
s.on('close', () => process.exit(0));
setTimeout(() => process.exit(4), Number(process.env.CLIENT_TIMEOUT_MS ?? 10000)).unref();
`;
