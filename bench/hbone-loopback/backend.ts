// Bench backend process: an echo port (request/response) and a sink port (bulk: counts bytes, answers the
// count as 8 bytes when a chunk ends in a 0x00 byte, the load generator's end mark; a FIN is not used
// because haproxy does not carry a half-close across its TLS hop). Prints `READY {"echo":p,"sink":p}`.
import { createServer, type AddressInfo, type Server } from 'node:net';

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', 4096, () => r((server.address() as AddressInfo).port)));
}

const echo = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
  s.on('error', () => undefined);
  s.pipe(s);
});
const sink = createServer({ allowHalfOpen: true }, (s) => {
  let n = 0;
  s.on('error', () => undefined);
  s.on('data', (c: Buffer) => {
    n += c.length;
    if (c[c.length - 1] === 0) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      s.end(b);
    }
  });
  s.on('end', () => s.end());
});
const ports = { echo: await listen(echo), sink: await listen(sink) };
process.on('SIGTERM', () => process.exit(0));
console.log(`READY ${JSON.stringify(ports)}`);
