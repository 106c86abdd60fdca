import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WeftError } from '../../lib/errors/index.js';
import { HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT } from '../../lib/names.js';
import { nativeNetns } from '../netns/native.js';
import { AGENT_MARK } from '../netns/socket-factory.js';

/** Connmark/fwmark that routes replies to a spoofed client IP back to the agent's socket. */
export const CONNMARK = 0x111;
export const ROUTE_TABLE = 100;
export const TABLE_NAME = 'weft';
/** The bits of the packet and conntrack marks weft owns (the rest stay the node's). */
export const MARK_MASK = 0xfff;

export interface CaptureSpec {
  /** Path of the pod's network namespace. */
  readonly netns: string;
  /** Sources exempt from inbound capture: the node's address(es) kubelet probes come from. */
  readonly probeSources: readonly string[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The pod's `weft` table. Outbound TCP goes to 15001, inbound TCP (except HBONE 15008) to 15006; the
 * agent's own sockets (mark 0x539), loopback and the node's probe source pass untouched. The mangle
 * chains implement source-IP preservation: the agent's connection to the app (spoofed client source,
 * mark 0x539) gets connmark 0x111, and the app's replies restore it as fwmark so that `ip rule fwmark
 * 0x111 lookup 100` delivers them locally instead of routing them out to the real client.
 * Written as one `nft -f` transaction that first drops any previous table: idempotent and atomic.
 */
export function captureRules(spec: CaptureSpec): string {
  const mark = `meta mark & ${hex(MARK_MASK)} == ${hex(AGENT_MARK)}`;
  const probes4 = spec.probeSources.filter((a) => !a.includes(':'));
  const probes6 = spec.probeSources.filter((a) => a.includes(':'));
  return [
    `table inet ${TABLE_NAME}`,
    `delete table inet ${TABLE_NAME}`,
    `table inet ${TABLE_NAME} {`,
    `  chain prerouting_mangle {`,
    `    type filter hook prerouting priority mangle; policy accept;`,
    `    ${mark} ct mark set ${hex(CONNMARK)}`,
    `  }`,
    `  chain output_mangle {`,
    `    type route hook output priority mangle; policy accept;`,
    `    ${mark} return`,
    `    ct mark & ${hex(MARK_MASK)} == ${hex(CONNMARK)} meta mark set ${hex(CONNMARK)}`,
    `  }`,
    `  chain prerouting_nat {`,
    `    type nat hook prerouting priority dstnat; policy accept;`,
    `    meta l4proto != tcp return`,
    `    iifname "lo" return`,
    `    ${mark} return`,
    ...(probes4.length ? [`    ip saddr { ${probes4.join(', ')} } return`] : []),
    ...(probes6.length ? [`    ip6 saddr { ${probes6.join(', ')} } return`] : []),
    `    tcp dport ${HBONE_PORT} return`,
    `    meta l4proto tcp redirect to :${INBOUND_PLAIN_PORT}`,
    `  }`,
    // While no agent listens (agent restart), SYNs to its ports are dropped rather than answered with a
    // reset: clients retransmit and connect once the new agent's listeners are up, instead of failing.
    `  chain prerouting_hold {`,
    `    type filter hook prerouting priority filter; policy accept;`,
    `    tcp dport { ${OUTBOUND_PORT}, ${INBOUND_PLAIN_PORT}, ${HBONE_PORT} } tcp flags & (fin | syn | rst | ack) == syn socket transparent { 0, 1 } return`,
    `    tcp dport { ${OUTBOUND_PORT}, ${INBOUND_PLAIN_PORT}, ${HBONE_PORT} } tcp flags & (fin | syn | rst | ack) == syn drop`,
    `  }`,
    `  chain output_nat {`,
    `    type nat hook output priority -100; policy accept;`,
    `    meta l4proto != tcp return`,
    `    ${mark} return`,
    `    oifname "lo" return`,
    `    fib daddr type local return`,
    `    meta l4proto tcp redirect to :${OUTBOUND_PORT}`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

const RULE = `fwmark ${hex(CONNMARK)}/${hex(MARK_MASK)} lookup ${ROUTE_TABLE}`;
/**
 * An explicit priority makes `ip rule add` of the same rule fail with EEXIST instead of adding a
 * duplicate, so the add is idempotent without a `show | grep` round trip (and never deletes first, so
 * there is no window without the rule). 32764 is where the kernel would put the first rule added
 * without one (just above `main` at 32766 and the auto-picked 32765), so the layout is unchanged.
 */
export const RULE_PREF = 32764;

/**
 * Installs (or refreshes) the capture rules and routing in the pod's netns. Idempotent. This is what CNI
 * ADD waits for, so it starts no process: the native module sends the table (one nf_tables transaction,
 * the rules of captureRules()) and the rule + route (rtnetlink) itself. Before, `nsenter nft -f -` and
 * `nsenter ip -batch -` (two process pairs) were most of the agent's ~17 ms of ADD work in bench/cni-add;
 * the netlink round trips take a fraction of a millisecond (the nf_tables socket's close, which waits for
 * an RCU grace period, 5-15 ms, runs on a libuv worker: node-agent/native/capture.c). captureRules() stays the readable form (what
 * a person runs by hand with `nft -f`; the routing is RULE at RULE_PREF plus `route replace local
 * 0.0.0.0/0 dev lo table 100`). The native side writes each small anonymous set as one rule per element
 * and `socket transparent {0, 1}` as `<= 1`: the same verdicts.
 */
export function installCapture(spec: CaptureSpec, pod: string): Promise<void> {
  try {
    nativeNetns().installCapture(spec.netns, {
      table: TABLE_NAME,
      agentMark: AGENT_MARK,
      markMask: MARK_MASK,
      connmark: CONNMARK,
      routeTable: ROUTE_TABLE,
      rulePref: RULE_PREF,
      outboundPort: OUTBOUND_PORT,
      inboundPort: INBOUND_PLAIN_PORT,
      hbonePort: HBONE_PORT,
      probeSources: spec.probeSources,
    });
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(new WeftError('ERR_WEFT_AGENT_CAPTURE_FAILED', { netns: spec.netns, pod, reason: (err as Error).message }, { cause: err }));
  }
}

/** Removes everything installCapture added; a namespace that is already gone counts as removed. */
export async function removeCapture(netns: string, pod: string): Promise<void> {
  // Rules added by older agents carry other priorities and may be duplicated: delete by selector, a few
  // times; `-force` goes on past the lines that find nothing, so its exit status says nothing useful.
  const routing = `rule del ${RULE}\n`.repeat(4) + `route flush table ${ROUTE_TABLE}\n`;
  const [table, ip] = await Promise.allSettled([inNetns(netns, ['nft', 'delete', 'table', 'inet', TABLE_NAME]), inNetns(netns, ['ip', '-force', '-batch', '-'], routing)]);
  for (const r of [table, ip]) {
    if (r.status === 'fulfilled') continue;
    const message = (r.reason as Error).message;
    if (message.includes('nsenter:')) {
      // The namespace could not be entered: gone (pod deleted, or a stale file left by the runtime) is
      // fine, anything else (e.g. no permission) is not.
      if (!existsSync(netns) || /cannot open|reassociate/.test(message)) return;
    } else if (r === ip || /No such file or directory/.test(message)) {
      continue; // routing lines that found nothing; a table that was not there
    }
    throw new WeftError('ERR_WEFT_AGENT_CAPTURE_FAILED', { netns, pod, reason: message }, { cause: r.reason });
  }
}

/** True when the pod's `weft` table and policy rule are in place (CNI CHECK, reconcile). */
export async function captureInstalled(netns: string): Promise<boolean> {
  try {
    const [, rules] = await Promise.all([inNetns(netns, ['nft', 'list', 'table', 'inet', TABLE_NAME]), inNetns(netns, ['ip', 'rule', 'show'])]);
    return rules.includes(RULE);
  } catch {
    return false;
  }
}

/**
 * The IPv4 default gateway of the pod (the node's bridge address, where kubelet probes come from), by a
 * netlink route dump in its netns: ADD asks when the previous CNI result names no gateway, and ADD
 * starts no process. undefined when there is none or the netns cannot be read.
 */
export function defaultGateway(netns: string): Promise<string | undefined> {
  try {
    return Promise.resolve(nativeNetns().defaultGateway(netns));
  } catch {
    return Promise.resolve(undefined);
  }
}

function inNetns(netns: string, argv: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netns}`, '--', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    // A child that exits before reading its input (bad netns, nft refusing early) makes the write fail
    // with EPIPE; its exit status already reports the failure, and an unhandled stream error would
    // crash the agent and fail every later enrollment on the node.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv[0]} exited ${code}: ${err.trim().slice(0, 500)}`));
    });
    child.stdin.end(input ?? '');
  });
}
