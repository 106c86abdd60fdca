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
  /** A socket already connecting to address:port. */
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
    const fd = nativeNetns().connectSocketInNetns(this.netnsPath, {
      mark: this.mark,
      transparent: options.sourceAddress !== undefined,
      bindAddress: options.sourceAddress,
      family: address.includes(':') ? 6 : 4,
    });
    const socket = new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
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
    return netConnect({ host: address, port, localAddress: options.sourceAddress, allowHalfOpen: true });
  }
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
