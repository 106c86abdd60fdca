#!/usr/bin/env node
// weft/grpc-echo: a gRPC server on 9090 with one unary method, /weft.lab.v1.EchoService/Echo, whose
// request and response are JSON bytes (no .proto needed by clients: grpcurl-free, any gRPC client that
// sends raw bytes works). The request `{"message": "...", "status": 14, "delayMs": 100}` answers with that
// gRPC status (0 = OK) after the delay; the response names the pod and the peer address it saw (and the
// metadata it received, e.g. the waypoint's `x-weft-attempt`). Env FAIL_RATE=0.5 answers that share of
// the calls that ask for no status with UNAVAILABLE (14), as http-echo's FAIL_RATE answers 503.
import type { status as grpcStatus } from '@grpc/grpc-js';
import { Server, ServerCredentials, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

const PORT = Number(process.env.PORT ?? 9090);
const POD = process.env.POD_NAME ?? 'unknown';
const FAIL_RATE = Math.min(1, Math.max(0, Number(process.env.FAIL_RATE ?? 0) || 0));
const UNAVAILABLE = 14;

interface EchoRequest {
  message?: string;
  status?: number;
  delayMs?: number;
}

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => {
    try {
      return JSON.parse(b.toString('utf8'));
    } catch {
      return {};
    }
  },
};

export const EchoServiceDefinition: ServiceDefinition = {
  Echo: {
    path: '/weft.lab.v1.EchoService/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

function echo(call: ServerUnaryCall<EchoRequest, unknown>, cb: sendUnaryData<unknown>): void {
  const req = call.request ?? {};
  const delay = Math.min(60_000, Math.max(0, Number(req.delayMs ?? 0) || 0));
  setTimeout(() => {
    const code = Number(req.status ?? 0);
    if (code > 0 && code <= 16) {
      cb({ code: code as grpcStatus, details: `asked to fail with status ${code} by the client (pod ${POD})` });
      return;
    }
    if (FAIL_RATE > 0 && Math.random() < FAIL_RATE) {
      cb({ code: UNAVAILABLE as grpcStatus, details: `failing ${FAIL_RATE * 100} % of calls (FAIL_RATE, pod ${POD})` });
      return;
    }
    cb(null, { pod: POD, namespace: process.env.POD_NAMESPACE ?? 'default', message: req.message ?? '', peer: call.getPeer(), metadata: call.metadata.getMap() });
  }, delay);
}

const server = new Server();
server.addService(EchoServiceDefinition, { Echo: echo });
server.bindAsync(`0.0.0.0:${PORT}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(JSON.stringify({ msg: 'grpc-echo bind failed', err: err.message }));
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: 'grpc-echo listening', port }));
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
