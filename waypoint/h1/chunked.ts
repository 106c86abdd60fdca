import { CR, FIELD_VALUE, LF } from './chars.js';

// A strict incremental decoder of the chunked transfer coding (RFC 9112 §7.1) for request bodies from
// clients and response bodies from endpoints: hex sizes of at most 15 digits (no overflow), chunk
// extensions without control bytes and at most 16 KiB per chunk-size line (cumulative over the line's
// extensions, as Node's llhttp binding counts them since CVE-2024-22019: without a cap a peer streams
// extensions forever and the body never completes), CRLF after every chunk's data (a missing CRLF is the
// classic smuggling vector), and trailer lines checked like header lines, every byte of them counted
// against their cap. Every state is bounded: nothing here grows with the input. Decoded data is handed to
// `sink` as subarrays of the input (no copy).

export interface ChunkSink {
  chunkData(data: Buffer): void;
}

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  LastLf,
  Done,
}

const MAX_SIZE_DIGITS = 15;
/** Bytes of chunk extensions (from the first `;` to the CR) allowed on one chunk-size line. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
/** Bytes of the trailer section (every line, with its CRLF) allowed after the last chunk. */
export const MAX_TRAILER_BYTES = 16 * 1024;

export class ChunkedDecoder {
  private state = S.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extBytes = 0;
  private trailerBytes = 0;
  /** Why the coding was refused (after feed returned -2). */
  error = '';

  constructor(
    private readonly sink: ChunkSink,
    private readonly maxTrailerBytes = MAX_TRAILER_BYTES,
    private readonly maxExtensionBytes = MAX_CHUNK_EXTENSION_BYTES,
  ) {}

  reset(): void {
    this.state = S.Size;
    this.size = 0;
    this.digits = 0;
    this.remaining = 0;
    this.extBytes = 0;
    this.trailerBytes = 0;
    this.error = '';
  }

  get done(): boolean {
    return this.state === S.Done;
  }

  /** Decodes from `start`; returns the index after the last chunk's final CRLF, -1 for more, -2 on error. */
  feed(buf: Buffer, start: number): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case S.Size: {
          const b = buf[i];
          const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
          if (d >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size too large');
            this.size = this.size * 16 + d;
            i++;
          } else if (this.digits === 0) return this.fail('invalid chunk size');
          else if (b === CR) {
            this.state = S.SizeLf;
            i++;
          } else if (b === 0x3b /* ; */) {
            this.state = S.Ext;
            this.extBytes = 1;
            i++;
          } else return this.fail('invalid chunk size');
          break;
        }
        case S.Ext: {
          const b = buf[i];
          if (b === CR) this.state = S.SizeLf;
          else if (FIELD_VALUE[b] === 0) return this.fail('invalid chunk extension');
          else if (++this.extBytes > this.maxExtensionBytes) return this.fail('chunk extensions too large');
          i++;
          break;
        }
        case S.SizeLf:
          if (buf[i++] !== LF) return this.fail('chunk size line not terminated by CRLF');
          this.remaining = this.size;
          this.digits = 0;
          this.size = 0;
          this.state = this.remaining === 0 ? S.TrailerStart : S.Data;
          break;
        case S.Data: {
          const take = Math.min(this.remaining, n - i);
          this.sink.chunkData(buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (buf[i++] !== CR) return this.fail('chunk data not followed by CRLF');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i++] !== LF) return this.fail('chunk data not followed by CRLF');
          this.state = S.Size;
          break;
        case S.TrailerStart: {
          const b = buf[i++];
          if (++this.trailerBytes > this.maxTrailerBytes) return this.fail('trailers too large');
          if (b === CR) this.state = S.LastLf;
          else if (b === 0x20 || b === 0x09 || FIELD_VALUE[b] === 0) return this.fail('invalid trailer line');
          else this.state = S.TrailerLine;
          break;
        }
        case S.TrailerLine: {
          const b = buf[i++];
          if (++this.trailerBytes > this.maxTrailerBytes) return this.fail('trailers too large');
          if (b === CR) this.state = S.TrailerLf;
          else if (FIELD_VALUE[b] === 0) return this.fail('invalid byte in a trailer');
          break;
        }
        case S.TrailerLf:
          if (++this.trailerBytes > this.maxTrailerBytes) return this.fail('trailers too large');
          if (buf[i++] !== LF) return this.fail('trailer line not terminated by CRLF');
          this.state = S.TrailerStart;
          break;
        case S.LastLf:
          if (buf[i++] !== LF) return this.fail('last chunk not terminated by CRLF');
          this.state = S.Done;
          return i;
        case S.Done:
          return i;
      }
    }
    return this.state === S.Done ? i : -1;
  }

  private fail(reason: string): number {
    this.error = reason;
    return -2;
  }
}
