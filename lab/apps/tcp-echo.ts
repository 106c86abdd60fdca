#!/usr/bin/env node
// weft/tcp-echo: echoes every byte back on port 9000; with GREETING set it speaks first (a
// server-first protocol, the case where protocol detection stalls in other meshes).
import { createServer } from 'node:net';

const PORT = Number(process.env.PORT ?? 9000);
const GREETING = process.env.GREETING;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  if (GREETING) socket.write(`${GREETING} from ${process.env.POD_NAME ?? 'tcp-echo'}\n`);
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
});
server.listen(PORT, '0.0.0.0', () => console.log(JSON.stringify({ msg: 'tcp-echo listening', port: PORT })));
process.on('SIGTERM', () => process.exit(0));
