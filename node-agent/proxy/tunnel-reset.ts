import { constants, type ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * The source side of an HBONE tunnel the far end resets instead of ending it (RST_STREAM): a waypoint
 * that answered 200 and then could not serve the tunnel, a destination agent that closed it by policy.
 * The source logged such a tunnel `outcome: ok, bytes_received: 0`; this records it as CONNECT with the
 * reset code. Call before the tunnel is piped. A reset that follows our own client going away (its close
 * or error comes first) is a normal end, as is a stream both sides ended (code NO_ERROR).
 */
export function watchReset(down: Socket, stream: ClientHttp2Stream, peer: string, close: (flag: string, reason: string) => void): void {
  let clientGone = false;
  const gone = (): void => {
    clientGone = true;
  };
  down.prependOnceListener('close', gone);
  down.prependOnceListener('error', gone);
  stream.once('close', () => {
    const code = stream.rstCode;
    if (clientGone || code === undefined || code === constants.NGHTTP2_NO_ERROR) return;
    close('CONNECT', `tunnel reset by ${peer} (RST_STREAM code ${code}) after CONNECT was answered 200`);
  });
}
