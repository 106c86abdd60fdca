import { BlockList, isIP } from 'node:net';

// A policy's CIDR list (`ipBlocks`, `notIpBlocks`), as a BlockList built once. An entry that is not an
// address or CIDR cannot be read; which way it counts is chosen by the caller so the policy fails closed.

export class IpSet {
  private readonly list = new BlockList();
  /** Set when an unreadable entry must count as matching every address. */
  private readonly all: boolean;

  /** `unreadableMatchesAll`: what an unreadable entry means (true: every address; false: none). */
  constructor(cidrs: readonly string[], unreadableMatchesAll: boolean) {
    let all = false;
    for (const c of cidrs) if (!this.add(c)) all ||= unreadableMatchesAll;
    this.all = all;
  }

  matches(ip: string | undefined): boolean {
    if (this.all) return true;
    if (ip === undefined) return false;
    return this.list.check(ip, ipFamily(ip));
  }

  private add(cidr: string): boolean {
    const slash = cidr.indexOf('/');
    const addr = slash < 0 ? cidr : cidr.slice(0, slash);
    const version = isIP(addr);
    if (version === 0) return false;
    const family = version === 6 ? 'ipv6' : 'ipv4';
    if (slash < 0) {
      this.list.addAddress(addr, family);
      return true;
    }
    const bits = cidr.slice(slash + 1);
    const prefix = Number(bits);
    if (!/^[0-9]{1,3}$/.test(bits) || prefix > (version === 6 ? 128 : 32)) return false;
    this.list.addSubnet(addr, prefix, family);
    return true;
  }
}

export function ipFamily(ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 6 ? 'ipv6' : 'ipv4';
}
