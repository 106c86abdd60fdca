// Just enough DER for CSRs in and certificates out: single-byte tags, definite lengths, strict bounds.
// Every read is bounded by its container, so a hostile CSR can only make it throw DerError.

export class DerError extends Error {}

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readTlv(buf: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let len = buf[pos + 1];
  let contentStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new DerError('indefinite or oversized length');
    if (contentStart + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i];
    if (len < 0x80 || (n > 1 && buf[contentStart] === 0)) throw new DerError('non-minimal length');
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError('content runs past its container');
  return { tag, start: pos, contentStart, end };
}

export function childrenOf(buf: Buffer, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('primitive where a constructed value belongs');
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

export function contentOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.contentStart, t.end);
}

export function oidOf(buf: Buffer, t: Tlv): string {
  const b = contentOf(buf, t);
  if (b.length === 0 || b.length > 64 || (b[b.length - 1] & 0x80) !== 0) throw new DerError('malformed OID');
  const arcs: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs[0];
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...arcs.slice(1)].join('.');
}

export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

export function der(tag: number, ...parts: Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat([Buffer.from([tag]), derLength(len), ...parts]);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, `Z`. */
export function derTime(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? der(0x17, Buffer.from(digits.slice(2), 'latin1')) : der(0x18, Buffer.from(digits, 'latin1'));
}

/** `BIT STRING` unused-bits octet for whole-byte contents. */
export const ZERO_BYTE = Buffer.from([0]);
