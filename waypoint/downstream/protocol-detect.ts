import type { Duplex } from 'node:stream';
import type { ServicePort } from '../../lib/model/index.js';

// Which protocol a Service port speaks: its appProtocol first, then its name prefix (`http-web`,
// `grpc-api`), and only when neither says anything the first bytes, read with a short bound. A port
// declared `tcp` (or any non-HTTP protocol) is never sniffed, so server-speaks-first protocols (MySQL,
// SMTP) start at once instead of stalling behind detection.

export type Declared = 'http' | 'h2' | 'tcp' | undefined;
export type Detected = 'http1' | 'h2' | 'tcp';

const H2 = new Set(['http2', 'h2c', 'kubernetes.io/h2c', 'grpc', 'grpc-web']);
const HTTP = new Set(['http', 'kubernetes.io/http']);
const TCP = new Set(['tcp', 'tls', 'https', 'kubernetes.io/ws', 'kubernetes.io/wss', 'mysql', 'mongo', 'redis', 'postgres', 'postgresql', 'smtp', 'amqp', 'kafka', 'zookeeper']);

function classify(p: string): Declared {
  const v = p.toLowerCase();
  if (H2.has(v)) return 'h2';
  if (HTTP.has(v)) return 'http';
  if (TCP.has(v)) return 'tcp';
  return undefined;
}

export function declaredProtocol(port: ServicePort): Declared {
  if (port.appProtocol) {
    const c = classify(port.appProtocol);
    // An appProtocol weft does not know is still a declaration that this is not HTTP: never sniff it.
    return c ?? 'tcp';
  }
  if (port.name) return classify(port.name.split('-')[0]);
  return undefined;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const METHOD = /^[A-Z]{3,12} /;

export function classifyBytes(first: Buffer): Detected {
  const n = Math.min(first.length, H2_PREFACE.length);
  if (n >= 3 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'h2';
  if (METHOD.test(first.subarray(0, 13).toString('latin1'))) return 'http1';
  return 'tcp';
}

/**
 * Reads the first chunk without consuming it (it is unshifted back). Resolves null when nothing arrives
 * within `boundMs` (0 = wait until data or end).
 */
export function peek(stream: Duplex, boundMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (chunk: Buffer | null): void => {
      if (timer) clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      if (chunk) stream.unshift(chunk);
      resolve(chunk);
    };
    const onReadable = (): void => {
      const c = stream.read() as Buffer | null;
      if (c) finish(c);
    };
    const onEnd = (): void => finish(null);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    if (boundMs > 0) timer = setTimeout(() => finish(null), boundMs);
  });
}

/** The protocol of a connection on `port`, sniffing only as much as the declaration leaves open. */
export async function detect(stream: Duplex, port: ServicePort, sniffMs: number): Promise<Detected> {
  const declared = declaredProtocol(port);
  if (declared === 'tcp') return 'tcp';
  if (declared === 'h2') return 'h2';
  if (declared === 'http') {
    // HTTP clients speak first; only h1 vs h2 prior knowledge is open.
    const c = await peek(stream, 0);
    return c && classifyBytes(c) === 'h2' ? 'h2' : 'http1';
  }
  const c = await peek(stream, sniffMs);
  return c ? classifyBytes(c) : 'tcp';
}
