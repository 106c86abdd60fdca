/**
 * A real Kubernetes API server for tests of the control plane and the chart: etcd and kube-apiserver from
 * .tools/bin, started by the lab's own starters (lab/kube/components.ts, one place per concern) on 127.0.0.1
 * only (no network namespace, no root), on free ports below the ephemeral range, with a fresh PKI in a temp
 * dir. RBAC (and Node) authorization, the default admission plugins, a service-account issuer and keys (so
 * TokenRequest and TokenReview are real), and the pinned Gateway API CRDs plus the chart's CRDs applied
 * server-side and Established before the first test.
 *
 * One server per test file (`startKubeServer()` in beforeAll, `stop()` in afterAll), shared by the file's
 * tests: `reset()` (afterEach) removes what a test made, so tests stay order-independent. Not a vitest
 * globalSetup shared by every file: that would start the server for every unit run, also for the many
 * files that never talk to it, and one file's leftovers or a watch it holds open would reach into
 * another's (files run two at a time). A start costs ~3-6 s on this machine; see `startMs`.
 *
 * What a test sees: an admin KubeConfig (`kc`, system:masters), `tokenFor()` for a ServiceAccount token by
 * TokenRequest (RBAC tests: a KubeConfig with it via `kubeConfigWithToken`), and the server's audit log as
 * the request record (`requests()`: verb, path, query, user of every request, written before the server
 * answers) — the real server's own account of what a client did.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startEtcd, startKubeApiserver, stopComponent, type Placement, type RunningComponent } from '../../lab/kube/components.js';
import { issueClientCertificate, writeControlPlanePki, writeKubeconfig, type ControlPlanePki } from '../../lab/kube/pki.js';
import { pidAlive } from '../../lab/processes.js';
import { KIND_INFO } from '../../control/sources/schemas.js';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';
import { KubeObjects } from './kube-server-objects.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The CRDs a cluster running weft has: the pinned Gateway API release and the chart's own. */
export const CRD_DIRS = [join(ROOT, 'third_party', 'gateway-api', 'v1.7.0', 'standard'), join(ROOT, 'helm', 'weft', 'files', 'crds')];

/** Every request except the API server's own loopback client, at RequestReceived: logged before the answer. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [ResponseStarted, ResponseComplete, Panic]
rules:
  - level: None
    users: ["system:apiserver"]
  - level: Metadata
`;

/** Who the fixture's own requests (KubeObjects) are made as. */
const FIXTURE_USER = 'weft-test-fixture';

/** One request as the API server's audit log records it. */
export interface AuditedRequest {
  /** The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verb: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly user: string;
}

export class KubeServer extends KubeObjects {
  readonly url: string;
  /** etcd's client URL (plain HTTP on loopback; its JSON gateway takes /v3/kv/* requests). */
  readonly etcdUrl: string;
  /** Admin (system:masters) kubeconfig file, for kubectl. */
  readonly kubeconfig: string;
  readonly caCert: string;
  /** How long the start took (etcd, API server, CRDs served). */
  startMs = 0;
  readonly stop: () => Promise<void>;
  private readonly log: AuditLog;

  constructor(
    /** The admin kubeconfig's credentials (user weft-lab-admin) for the code under test. */
    readonly kc: KubeConfig,
    fixture: KubeConfig,
    o: { url: string; etcdUrl: string; kubeconfig: string; caCert: string; audit: string; stop: () => Promise<void> },
  ) {
    super(fixture);
    this.url = o.url;
    this.etcdUrl = o.etcdUrl;
    this.kubeconfig = o.kubeconfig;
    this.caCert = o.caCert;
    this.stop = o.stop;
    this.log = new AuditLog(o.audit);
  }

  /** A KubeConfig that authenticates with a bearer token (e.g. from tokenFor). */
  kubeConfigWithToken(token: string): KubeConfig {
    return kubeConfigWithToken(this.url, this.caCert, token);
  }

  /** Every request since the start or the last reset(), oldest first, except the server's own and the fixture's (put, get, …). */
  requests(): AuditedRequest[] {
    return this.log.read().filter((r) => r.user !== FIXTURE_USER);
  }

  override async reset(): Promise<void> {
    await super.reset();
    this.log.mark();
  }

  /**
   * Runs `body` while the named CRDs of CRD_DIRS are not installed (deleted, with their objects and API
   * paths gone), then installs them again and returns once they are served. reset() does not put CRDs back.
   */
  async withoutCrds<T>(names: readonly string[], body: () => Promise<T>): Promise<T> {
    const crds = names.map((n) => {
      const c = crdManifests().find((m) => m.metadata.name === n);
      if (c === undefined) throw new Error(`withoutCrds: no CRD ${n} in ${CRD_DIRS.join(', ')}`);
      return c;
    });
    // A deleted CRD stays readable (and its API path served) until the server's finalizer removed its objects.
    const gone = async (c: CrdManifest): Promise<boolean> => {
      const version = (c.spec.versions.find((v) => v.storage) ?? c.spec.versions[0]).name;
      const [crd, objects] = await Promise.all([this.get('CustomResourceDefinition', undefined, c.metadata.name), this.rest.request('GET', `/apis/${c.spec.group}/${version}/${c.spec.names.plural}`)]);
      return crd === undefined && objects.status === 404;
    };
    await Promise.all(names.map((n) => this.remove('CustomResourceDefinition', undefined, n)));
    try {
      await eventually(async () => (await Promise.all(crds.map(gone))).every(Boolean), 30_000, `${names.join(', ')} gone`);
      return await body();
    } finally {
      await this.reinstall(names);
    }
  }

  /**
   * Puts the named objects of CRD_DIRS (CRDs, the Gateway API's admission policy and binding) back as the
   * files have them, also after a test changed or removed them; returns once the CRDs among them are served.
   */
  async reinstall(names: readonly string[]): Promise<void> {
    const objects = crdManifests().filter((m) => names.includes(m.metadata.name));
    await Promise.all(objects.map((c) => this.put(c)));
    await this.waitServed(objects.filter((c) => c.kind === 'CustomResourceDefinition').map((c) => c.spec.names.kind), 30_000);
  }
}

interface CrdManifest extends Record<string, unknown> {
  kind: string;
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; storage: boolean }[] };
}

let crds: CrdManifest[] | undefined;
/** What CRD_DIRS holds (the CRDs, and the Gateway API's admission policy), as the files have it. */
function crdManifests(): CrdManifest[] {
  crds ??= CRD_DIRS.flatMap((d) => manifestsIn(d)) as CrdManifest[];
  return crds;
}

/**
 * `apiserverArgs`: flags added to kube-apiserver's (a test that needs the server to behave otherwise, e.g.
 * without its watch cache, has a server of its own).
 */
export async function startKubeServer(o: { apiserverArgs?: readonly string[] } = {}): Promise<KubeServer> {
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'weft-tkapi-'));
  const place: Placement = { procs: join(dir, 'procs'), logs: join(dir, 'logs'), dir, readyTimeoutMs: 90_000 };
  const started: RunningComponent[] = [];
  // A worker that dies without its afterAll (a timeout, a crash) must not leave the server behind.
  const killOnExit = (): void => {
    for (const c of started) if (pidAlive(c.record.pid)) process.kill(c.record.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    // SIGKILL soon: its data goes with the temp dir, a graceful shutdown would only cost ~1 s.
    for (const c of [...started].reverse()) await stopComponent(place.procs, c, 200);
    started.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki: ControlPlanePki = await writeControlPlanePki(join(dir, 'pki'));
    const etcd = await startEtcd({ ...place, clientPort: await freePort(), peerPort: await freePort() });
    started.push(etcd);
    const policy = join(dir, 'audit-policy.yaml');
    await writeFile(policy, AUDIT_POLICY);
    const audit = join(dir, 'audit.log');
    const apiserver = await startKubeApiserver({
      ...place,
      pki,
      etcdServers: [etcd.clientUrl],
      securePort: await freePort(),
      // The API server refuses a loopback advertise address; it names only the `kubernetes` Service's
      // endpoints, which nothing here publishes (reconciler off), so a documentation address does.
      advertiseAddress: '192.0.2.1',
      extraArgs: [
        '--endpoint-reconciler-type=none',
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${audit}`,
        '--audit-log-format=json',
        '--audit-log-maxbackup=0',
        ...(o.apiserverArgs ?? []),
      ],
    });
    started.push(apiserver);
    const kubeconfig = await writeKubeconfig(join(dir, 'admin.kubeconfig'), pki, 'admin', apiserver.url);
    // The test's own hands are another admin, so that requests() tells them from the code under test's.
    const files = { cert: join(dir, 'pki', 'fixture.crt'), key: join(dir, 'pki', 'fixture.key') };
    await issueClientCertificate(pki, `CN=${FIXTURE_USER}, O=system:masters`, files);
    const fixture = await writeKubeconfig(join(dir, 'fixture.kubeconfig'), pki, { user: FIXTURE_USER, files }, apiserver.url);
    const server = new KubeServer(loadKubeconfig(kubeconfig), loadKubeconfig(fixture), { url: apiserver.url, etcdUrl: etcd.clientUrl, kubeconfig, caCert: pki.caCert, audit, stop });
    // Server-side applied as `kubectl apply --server-side -f <dir>` would (in-process: kubectl costs ~1 s a call here).
    await Promise.all(crdManifests().map((o) => server.put(o)));
    // Established is not served: a fresh CRD's watch cache answers 429 "storage is (re)initializing" for a
    // moment. Every kind weft reads lists before the first test runs.
    await server.waitServed(Object.keys(KIND_INFO), 60_000);
    server.startMs = Date.now() - t0;
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}

function loadKubeconfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function kubeConfigWithToken(server: string, caFile: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 't', server, caFile }],
    users: [{ name: 'token', token }],
    contexts: [{ name: 't', cluster: 't', user: 'token' }],
    currentContext: 't',
  });
  return kc;
}

/** Reads the audit log incrementally: a test polls it, and it only grows. */
class AuditLog {
  private offset = 0;
  private partial = '';
  private readonly entries: AuditedRequest[] = [];

  constructor(private readonly path: string) {}

  /** Forgets what was logged so far. */
  mark(): void {
    this.read();
    this.entries.length = 0;
  }

  read(): AuditedRequest[] {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return [];
    }
    if (size > this.offset) {
      const buf = readFileSync(this.path).subarray(this.offset, size);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.entries.push(parseEntry(line));
    }
    return [...this.entries];
  }
}

function parseEntry(line: string): AuditedRequest {
  const e = JSON.parse(line) as { verb: string; requestURI: string; user?: { username?: string } };
  const url = new URL(e.requestURI, 'https://x');
  return { verb: e.verb, path: url.pathname, query: Object.fromEntries(url.searchParams), user: e.user?.username ?? '' };
}

/** The documents of every YAML file in `dir`. */
function manifestsIn(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown> | null))
    .filter((o): o is Record<string, unknown> => o !== null);
}
