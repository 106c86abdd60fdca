import { createServer, type AddressInfo } from 'node:net';

/** A TCP port free right now on 127.0.0.1, for components that take an address rather than a socket. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
