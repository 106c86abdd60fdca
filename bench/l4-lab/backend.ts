// The server pod of bench/l4-lab (run by the lab as a `debian` pod whose command is this file): an echo
// port for request/response phases and a sink port for the one-stream throughput phase. The sink counts
// bytes and answers the count as 8 bytes when a chunk ends in a 0x00 byte, the load generator's end mark
// (not a FIN: haproxy does not carry a half-close across its TLS hop), as bench/hbone-loopback's backend.
import { createServer, type Server } from 'node:net';

const ECHO_PORT = Number(process.env.ECHO_PORT ?? 9000);
const SINK_PORT = Number(process.env.SINK_PORT ?? 9001);

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

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', 4096, () => resolve());
  });
}

await listen(echo, ECHO_PORT);
await listen(sink, SINK_PORT);
process.on('SIGTERM', () => process.exit(0));
console.log(JSON.stringify({ msg: 'l4-lab backend listening', echo: ECHO_PORT, sink: SINK_PORT }));
