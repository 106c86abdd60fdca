import { connect, type Socket } from 'node:net';

/** Where an HBONE session's TCP connection goes. */
export interface NextHop {
  readonly host: string;
  readonly port: number;
}

/**
 * Makes the TCP sockets HBONE sessions run over. The node agent passes one that creates sockets inside a
 * pod's network namespace with its bypass mark; tests and the waypoint use `plainSocketFactory`. The
 * returned socket may still be connecting; TLS waits for it.
 */
export interface SocketFactory {
  connect(target: NextHop): Promise<Socket> | Socket;
}

/** Ordinary sockets in the process's own namespace, Nagle off. */
export const plainSocketFactory: SocketFactory = {
  connect(target: NextHop): Socket {
    return connect({ host: target.host, port: target.port, noDelay: true });
  },
};
