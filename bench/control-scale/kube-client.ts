import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

/**
 * A minimal API-server client for bench/control-scale: JSON requests over a keep-alive pool with the
 * admin certificate of a kubeconfig that names its files (lab/kube/pki.ts writeKubeconfig without
 * `inline`). In-process rather than kubectl, so that a measured change is not a process start.
 */
export interface KubeClient {
  call(method: string, path: string, body: unknown, contentType?: string): Promise<Record<string, unknown>>;
  /** Requests sent so far. */
  readonly requests: number;
  close(): void;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'certificate-authority': string } }[];
  users: { user: { 'client-certificate': string; 'client-key': string } }[];
}

export async function kubeClient(kubeconfig: string, maxSockets: number): Promise<KubeClient> {
  const kc = parse(await readFile(kubeconfig, 'utf8')) as KubeconfigFile;
  const server = new URL(kc.clusters[0].cluster.server);
  const agent = new Agent({
    keepAlive: true,
    maxSockets,
    ca: await readFile(kc.clusters[0].cluster['certificate-authority']),
    cert: await readFile(kc.users[0].user['client-certificate']),
    key: await readFile(kc.users[0].user['client-key']),
  });
  let requests = 0;
  const call = (method: string, path: string, body: unknown, contentType = 'application/json'): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      requests++;
      const data = JSON.stringify(body);
      const req = request(
        { host: server.hostname, port: server.port, method, path, agent, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(data) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
            else resolve(JSON.parse(text) as Record<string, unknown>);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return {
    call,
    get requests() {
      return requests;
    },
    close: () => agent.destroy(),
  };
}
