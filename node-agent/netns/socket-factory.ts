import type { Server} from 'node:net';
import { Socket, createServer, connect as netConnect } from 'node:net';
import { nativeNetns } from './native.js';

/** The agent's packet mark: capture rules let sockets carrying it through (ARCHITECTURE.md, Ports). */
export const AGENT_MARK = 0x539;

export interface ConnectOptions {
  /** Spoofed source address (the original client's IP) — needs IP_TRANSPARENT in a pod netns. */
  readonly sourceAddress?: string;
}

/**
 * The only seam that enters a network namespace or sets the mark (ztunnel's SocketFactory). Proxy code
 * asks a factory for listeners and outgoing sockets and never knows where they live.
 */
export interface SocketFactory {
  /** Human-readable place, for logs (`netns /var/run/netns/x`, `host`). */
  readonly where: string;
  /** A listening server; `reusePort` lets a restarted agent bind before the old one exits. */
  listen(host: string, port: number, options?: { reusePort?: boolean }): Promise<Server>;
  /**
   * A socket already connecting to address:port. Never throws: a socket that cannot even be created
   * (EMFILE, the pod's netns gone) is returned destroyed and emits that error, like a refused connect.
   */
  connect(address: string, port: number, options?: ConnectOptions): Socket;
}

/** Sockets inside a pod's network namespace, marked so that the pod's capture rules skip them. */
export class NetnsSocketFactory implements SocketFactory {
  readonly where: string;
  constructor(
    readonly netnsPath: string,
    private readonly mark: number = AGENT_MARK,
  ) {
    this.where = `netns ${netnsPath}`;
  }

  async listen(host: string, port: number, options: { reusePort?: boolean } = {}): Promise<Server> {
    const fd = nativeNetns().listenInNetns(this.netnsPath, host, port, { reusePort: options.reusePort ?? true });
    return adopt(fd);
  }

  connect(address: string, port: number, options: ConnectOptions = {}): Socket {
    let socket: Socket;
    try {
      const fd = nativeNetns().connectSocketInNetns(this.netnsPath, {
        mark: this.mark,
        transparent: options.sourceAddress !== undefined,
        bindAddress: options.sourceAddress,
        family: address.includes(':') ? 6 : 4,
      });
      socket = new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
    } catch (err) {
      // Thrown synchronously by the addon (EMFILE from socket(), ENOENT from setns): uncaught in a
      // connection handler it ended the agent, and with it the mesh of every pod on the node.
      return failedSocket(err);
    }
    socket.connect(port, address);
    return socket;
  }
}

/** Plain sockets in the agent's own namespace; for tests and for processes that need no capture. */
export class PlainSocketFactory implements SocketFactory {
  readonly where = 'host';

  async listen(host: string, port: number): Promise<Server> {
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  connect(address: string, port: number, options: ConnectOptions = {}): Socket {
    try {
      return netConnect({ host: address, port, localAddress: options.sourceAddress, allowHalfOpen: true });
    } catch (err) {
      return failedSocket(err);
    }
  }
}

/** A socket that never connected: it emits `err` (on the next tick, so callers can listen first), then closes. */
function failedSocket(err: unknown): Socket {
  const socket = new Socket({ allowHalfOpen: true });
  socket.destroy(err instanceof Error ? err : new Error(String(err)));
  return socket;
}

async function adopt(fd: number): Promise<Server> {
  const server = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
