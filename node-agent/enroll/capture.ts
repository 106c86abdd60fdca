import { spawn } from 'node:child_process';
import { WeftError } from '../../lib/errors/index.js';
import { AGENT_MARK } from '../netns/socket-factory.js';

/** Ports the agent listens on inside each captured pod (ARCHITECTURE.md, Ports). */
export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAIN_PORT = 15006;
export const HBONE_PORT = 15008;
/** Connmark/fwmark that routes replies to a spoofed client IP back to the agent's socket. */
export const CONNMARK = 0x111;
export const ROUTE_TABLE = 100;
export const TABLE_NAME = 'weft';

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
  const mark = `meta mark & 0xfff == ${hex(AGENT_MARK)}`;
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
    `    ct mark & 0xfff == ${hex(CONNMARK)} meta mark set ${hex(CONNMARK)}`,
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

const RULE = `fwmark ${hex(CONNMARK)}/0xfff lookup ${ROUTE_TABLE}`;

/** Installs (or refreshes) the capture rules and routing in the pod's netns. Idempotent. */
export async function installCapture(spec: CaptureSpec, pod: string): Promise<void> {
  try {
    await inNetns(spec.netns, ['nft', '-f', '-'], captureRules(spec));
    // `ip rule add` is not idempotent: add only when missing, never delete first (no window without it).
    await inNetns(spec.netns, [
      'sh',
      '-c',
      `ip rule show | grep -q '${RULE}' || ip rule add ${RULE}; ip route replace local 0.0.0.0/0 dev lo table ${ROUTE_TABLE}`,
    ]);
  } catch (err) {
    throw new WeftError('ERR_WEFT_AGENT_CAPTURE_FAILED', { netns: spec.netns, pod, reason: (err as Error).message }, { cause: err });
  }
}

/** Removes everything installCapture added; a namespace that is already gone counts as removed. */
export async function removeCapture(netns: string, pod: string): Promise<void> {
  try {
    await inNetns(netns, [
      'sh',
      '-c',
      `nft delete table inet ${TABLE_NAME} 2>/dev/null; while ip rule del ${RULE} 2>/dev/null; do :; done; ip route flush table ${ROUTE_TABLE} 2>/dev/null; true`,
    ]);
  } catch (err) {
    if (/No such file|cannot open|reassociate/i.test((err as Error).message)) return;
    throw new WeftError('ERR_WEFT_AGENT_CAPTURE_FAILED', { netns, pod, reason: (err as Error).message }, { cause: err });
  }
}

/** True when the pod's `weft` table and policy rule are in place (CNI CHECK, reconcile). */
export async function captureInstalled(netns: string): Promise<boolean> {
  try {
    const out = await inNetns(netns, ['sh', '-c', `nft list table inet ${TABLE_NAME} >/dev/null && ip rule show`]);
    return out.includes(RULE);
  } catch {
    return false;
  }
}

/** The default gateway of the pod (the node's bridge address, where kubelet probes come from). */
export async function defaultGateway(netns: string): Promise<string | undefined> {
  try {
    const out = await inNetns(netns, ['ip', '-j', 'route', 'show', 'default']);
    const routes = JSON.parse(out) as { gateway?: string }[];
    return routes.find((r) => r.gateway)?.gateway;
  } catch {
    return undefined;
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
