import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { WatchRequest, WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import { ControlCertifier } from '../../lib/control-client/certifier.js';
import { controlChannelOptions, controlCredentials } from '../../lib/control-client/channel.js';
import { SpiffeId, createCsr, generateKeyPair } from '../../lib/identity/index.js';

// One child process of the control-scale benchmark: runs a share of the simulated node agents and, on
// request, concurrent Certify loops. The node agents are real DiscoveryService.Watch streams over
// gRPC/TLS that fully decode every delta but only skim snapshot chunks (kind and snapshot_done): 100
// full client stacks (decode + validation of 10 000 workloads each) would measure the 2-core machine's
// clients, not the control plane. test/control/main-end-to-end.test.ts covers the real DiscoveryClient. Reports to
// the parent over IPC with wall-clock timestamps (performance.timeOrigin + now, comparable across
// processes on one machine).

interface Args {
  address: string;
  caRootFile: string;
  tokenDir: string;
  nodes: string[];
  benchUid: string;
}

const args = JSON.parse(process.argv[2]) as Args;
const send = (msg: unknown): void => void process.send?.(msg);
const now = (): number => performance.timeOrigin + performance.now();

const caRootPem = await readFile(args.caRootFile, 'utf8');
const SKIM_ABOVE_BYTES = 64 * 1024;
type Received = { kind: string; snapshotDone: boolean; full?: WatchResponse };

/** Full decode for deltas; for big snapshot chunks only the kind and snapshot_done fields. */
function deserialize(buf: Buffer): Received {
  if (buf.length < SKIM_ABOVE_BYTES) {
    const full = WatchResponse.decode(buf);
    return { kind: full.kind, snapshotDone: full.snapshotDone, full };
  }
  const r = new BinaryReader(buf);
  const out: Received = { kind: '', snapshotDone: false };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) out.kind = r.string();
    else if (field === 5) out.snapshotDone = r.bool();
    else r.skip(wire);
  }
  return out;
}

const creds = controlCredentials({ address: args.address, caRootPem });
const clients: Client[] = [];
const streams: ClientReadableStream<Received>[] = [];
let synced = 0;
for (const node of args.nodes) {
  // One connection per node agent, as in a cluster (no shared subchannel).
  const client = new Client(args.address, creds, { ...controlChannelOptions({ address: args.address, caRootPem }), 'grpc.use_local_subchannel_pool': 1 });
  clients.push(client);
  const md = new Metadata();
  md.set('authorization', `Bearer ${(await readFile(path.join(args.tokenDir, `${node}.token`), 'utf8')).trim()}`);
  const stream = client.makeServerStreamRequest<WatchRequest, Received>(
    '/weft.v1.DiscoveryService/Watch',
    (req) => Buffer.from(WatchRequest.encode(req).finish()),
    deserialize,
    { node, waypoint: '', kinds: [], initialVersions: {} },
    md,
  );
  const done = new Set<string>();
  let isSynced = false;
  stream.on('data', (m: Received) => {
    if (m.snapshotDone) done.add(m.kind);
    if (!isSynced && done.size === 5) {
      isSynced = true;
      synced++;
      if (synced === args.nodes.length) send({ type: 'synced' });
    }
    const w = m.full?.upserts.find((u) => u.workload?.uid === args.benchUid)?.workload;
    const seq = w?.labels['bench-seq'];
    if (seq !== undefined) send({ type: 'seen', node, seq: Number(seq), t: now() });
  });
  stream.on('error', (err) => console.error(`${node}: watch failed: ${err.message}`));
  streams.push(stream);
}

const jobs: Job[] = [];
process.on('message', (msg: { type: string; seconds?: number; concurrency?: number; identities?: Record<string, string[]> }) => {
  if (msg.type === 'certify-prepare') void prepare(msg.identities ?? {});
  if (msg.type === 'certify-go') void certifyLoad(msg.seconds ?? 10, msg.concurrency ?? 4);
  if (msg.type === 'exit') {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
    process.exit(0);
  }
});

interface Job {
  certifier: ControlCertifier;
  identity: SpiffeId;
  csr: string;
}

/** CSRs and one ControlCertifier per node token, made before the measured window. */
async function prepare(identities: Record<string, string[]>): Promise<void> {
  for (const [node, ids] of Object.entries(identities)) {
    const certifier = new ControlCertifier({ address: args.address, caRootPem, tokenFile: path.join(args.tokenDir, `${node}.token`) });
    for (const id of ids) {
      const identity = SpiffeId.parse(id);
      jobs.push({ certifier, identity, csr: await createCsr(identity, await generateKeyPair()) });
    }
  }
  send({ type: 'certify-ready' });
}

/** Concurrent Certify loops for `seconds`. */
async function certifyLoad(seconds: number, concurrency: number): Promise<void> {
  let ok = 0;
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const job = jobs[next++ % jobs.length];
        try {
          await job.certifier.certify(job.csr, job.identity, 3600);
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  for (const j of jobs) j.certifier.close();
  send({ type: 'certified', ok, failed });
}
