import { constants as h2c, type ClientHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { WeftError } from '../errors/index.js';

/**
 * Ends one side of a tunnel abnormally, so that the far end learns it was not a normal close: an HTTP/2
 * stream gets RST_STREAM CONNECT_ERROR (RFC 9113 §8.5: the proxy's TCP connection failed), anything else
 * is destroyed. A plain `destroy()` of a stream that answered 200 sends RST_STREAM NO_ERROR, which the
 * source cannot tell from a tunnel it closed itself.
 */
export function resetTunnel(side: Duplex): void {
  if (side.destroyed) return;
  const stream = side as Partial<Pick<ClientHttp2Stream, 'close' | 'rstCode'>>;
  if (typeof stream.close === 'function' && 'rstCode' in side) {
    try {
      stream.close(h2c.NGHTTP2_CONNECT_ERROR);
      return;
    } catch {
      // the session is gone: fall through
    }
  }
  side.destroy();
}

/**
 * Read once the source's tunnel stream has closed: the far end's reset, when it reset the tunnel. The
 * RST_STREAM code is set by whichever side closed the stream first and never changes after, so this does
 * not depend on the order of close events: our own ends (the client went away, the pipe aborted) destroy
 * the stream without an error, which Node records as NO_ERROR; only the far end (or a session that died)
 * leaves another code.
 */
export function resetByFarEnd(stream: ClientHttp2Stream, peer: string, authority: string): WeftError | undefined {
  const code = stream.rstCode;
  if (code === undefined || code === h2c.NGHTTP2_NO_ERROR) return undefined;
  return new WeftError('ERR_WEFT_HBONE_TUNNEL_RESET', { peer, authority, rstCode: rstName(code) });
}

// RFC 9113 §7 error codes, by value.
const RST_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

function rstName(code: number): string {
  const name = RST_NAMES[code];
  return name === undefined ? String(code) : `${name} ${code}`;
}
