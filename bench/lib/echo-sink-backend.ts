// The backend of the TCP benches: an echo port for the request/response phases and a sink port for the
// one-stream throughput phase. The sink counts bytes and answers the count as 8 bytes when a chunk ends in
// a 0x00 byte, the load generator's end mark (not a FIN: haproxy does not carry a half-close across its
// TLS hop). Run as its own process:
//   [--host 127.0.0.1] [--echo-port 0] [--sink-port 0]   (port 0: the kernel picks)
// and prints `READY {"echo":p,"sink":p}` once both listen. bench/hbone-loopback starts it on loopback
// and reads the ports from that line; bench/l4-lab runs it as the server pod's command on fixed ports.
import { createServer, type AddressInfo, type Server } from 'node:net';

interface Args {
  host: string;
  echoPort: number;
  sinkPort: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { host: '127.0.0.1', echoPort: 0, sinkPort: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--host': a.host = v; break;
      case '--echo-port': a.echoPort = Number(v); break;
      case '--sink-port': a.sinkPort = Number(v); break;
      default: throw new Error(`unknown option ${argv[i]}; usage: [--host H] [--echo-port P] [--sink-port P]`);
    }
  }
  return a;
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

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, 4096, () => resolve((server.address() as AddressInfo).port));
  });
}

const args = parseArgs(process.argv.slice(2));
const ports = { echo: await listen(echo, args.host, args.echoPort), sink: await listen(sink, args.host, args.sinkPort) };
process.on('SIGTERM', () => process.exit(0));
console.log(`READY ${JSON.stringify(ports)}`);
