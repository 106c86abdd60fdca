import { createHash } from 'node:crypto';
import { WeftError } from '../lib/errors/index.js';

/**
 * Service VIPs from 10.96.0.0/16, allocated by the lab acting as API server. The first candidate is a
 * hash of namespace/name, so a Service deleted and re-applied usually gets its old VIP back; collisions
 * probe linearly. 10.96.0.0, 10.96.0.1 (the `kubernetes` Service in a real cluster) and the broadcast
 * address are never handed out.
 */
export const VIP_RANGE = '10.96.0.0/16';
const FIRST = 2;
const LAST = 65534;
const SIZE = LAST - FIRST + 1;

export function vipFromOffset(offset: number): string {
  return `10.96.${(offset >> 8) & 255}.${offset & 255}`;
}

export function isVip(ip: string): boolean {
  const m = /^10\.96\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return false;
  const off = Number(m[1]) * 256 + Number(m[2]);
  return Number(m[1]) < 256 && Number(m[2]) < 256 && off >= FIRST && off <= LAST;
}

export function allocateVip(key: string, used: ReadonlySet<string>): string {
  const h = createHash('sha256').update(key).digest().readUInt32BE(0);
  for (let i = 0; i < SIZE; i++) {
    const ip = vipFromOffset(FIRST + ((h + i) % SIZE));
    if (!used.has(ip)) return ip;
  }
  throw new WeftError('ERR_WEFT_LAB_VIP_EXHAUSTED', { range: VIP_RANGE });
}
