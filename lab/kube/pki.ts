import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { x509, subtle, EC_P256, ECDSA_SHA256 } from '../../lib/identity/crypto.js';
import { exportPrivateKeyPem, importPrivateKeyPem, toPem } from '../../lib/identity/keys.js';

/**
 * The files a Kubernetes control plane needs to start, made fresh for one run: a cluster CA (self-signed,
 * the trust root kubectl and the API server share), the API server's serving certificate, client
 * certificates for the admin, the controller manager and the scheduler, and the service-account signing
 * key pair. All ECDSA P-256; keys are written 0600.
 */
export interface ControlPlanePki {
  readonly dir: string;
  readonly caCert: string;
  /** The cluster CA's private key (PKCS#8): signs node client certificates (issueClientCertificate). */
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificates, one per identity that talks to the API server. */
  readonly clients: Readonly<Record<KubeClient, { readonly cert: string; readonly key: string }>>;
  /** PKCS#8 private key the API server signs service-account tokens with. */
  readonly serviceAccountKey: string;
  /** Its public key (SPKI), which the API server verifies tokens with. */
  readonly serviceAccountPub: string;
}

/**
 * admin: group system:masters (RBAC allows it everything from the first request); the other two carry the
 * user names the API server's bootstrap RBAC roles and bindings are written for.
 */
export type KubeClient = 'admin' | 'kube-controller-manager' | 'kube-scheduler';

const CLIENT_SUBJECTS: Readonly<Record<KubeClient, string>> = {
  admin: 'CN=weft-lab-admin, O=system:masters',
  'kube-controller-manager': 'CN=system:kube-controller-manager',
  'kube-scheduler': 'CN=system:kube-scheduler',
};

export interface PkiOptions {
  /** Addresses the serving certificate is valid for (besides 127.0.0.1). */
  readonly ips?: readonly string[];
  /** DNS names it is valid for (besides localhost and the kubernetes Service's names). */
  readonly dnsNames?: readonly string[];
  readonly lifetimeDays?: number;
}

const SERVICE_DNS = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

export async function writeControlPlanePki(dir: string, o: PkiOptions = {}): Promise<ControlPlanePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + (o.lifetimeDays ?? 30) * 86_400_000);
  const caKeys = await newKeys();
  const caName = 'CN=weft-lab-kubernetes-ca';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const signer: CaSigner = { cert: ca, key: caKeys.privateKey, notBefore, notAfter };
  const leaf = (subject: string, usage: string, sans: x509.JsonGeneralName[]): Promise<IssuedPem> => signLeaf(signer, subject, usage, sans);
  const server = await leaf('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    ...['127.0.0.1', ...(o.ips ?? [])].map((value) => ({ type: 'ip' as const, value })),
    ...['localhost', ...SERVICE_DNS, ...(o.dnsNames ?? [])].map((value) => ({ type: 'dns' as const, value })),
  ]);
  const sa = await newKeys();

  const pki = controlPlanePkiFiles(dir);
  await writeFile(pki.caCert, ca.toString('pem') + '\n', { mode: 0o644 });
  // Kept (0600, as kubeadm keeps /etc/kubernetes/pki/ca.key) so that node credentials can be issued later.
  await writeFile(pki.caKey, await exportPrivateKeyPem(caKeys.privateKey), { mode: 0o600 });
  await writeFile(pki.serverCert, server.cert, { mode: 0o644 });
  await writeFile(pki.serverKey, server.key, { mode: 0o600 });
  for (const [client, files] of Object.entries(pki.clients) as [KubeClient, { cert: string; key: string }][]) {
    const issued = await leaf(CLIENT_SUBJECTS[client], x509.ExtendedKeyUsage.clientAuth, []);
    await writeFile(files.cert, issued.cert, { mode: 0o644 });
    await writeFile(files.key, issued.key, { mode: 0o600 });
  }
  await writeFile(pki.serviceAccountKey, await exportPrivateKeyPem(sa.privateKey), { mode: 0o600 });
  await writeFile(pki.serviceAccountPub, toPem(await subtle.exportKey('spki', sa.publicKey), 'PUBLIC KEY'), { mode: 0o644 });
  return pki;
}

/** Where writeControlPlanePki puts each file under `dir` (also how a later run finds them again). */
export function controlPlanePkiFiles(dir: string): ControlPlanePki {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    clients: {
      admin: { cert: join(dir, 'admin.crt'), key: join(dir, 'admin.key') },
      'kube-controller-manager': { cert: join(dir, 'kube-controller-manager.crt'), key: join(dir, 'kube-controller-manager.key') },
      'kube-scheduler': { cert: join(dir, 'kube-scheduler.crt'), key: join(dir, 'kube-scheduler.key') },
    },
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}

export interface KubeconfigOptions {
  /** The context (and cluster) name (default `weft-lab`). */
  readonly name?: string;
  /**
   * Carry the CA, certificate and key inside the file (`*-data`), so that it still works copied elsewhere
   * or read by a user who cannot read the lab's key files; default: reference them by path.
   */
  readonly inline?: boolean;
}

/** A kubeconfig for one client identity, pointing at `server`. */
export async function writeKubeconfig(
  path: string,
  pki: ControlPlanePki,
  client: KubeClient | { readonly user: string; readonly files: ClientCredentials },
  server: string,
  o: KubeconfigOptions = {},
): Promise<string> {
  const { cert, key } = typeof client === 'string' ? pki.clients[client] : client.files;
  const userName = typeof client === 'string' ? client : client.user;
  const name = o.name ?? 'weft-lab';
  const b64 = async (file: string): Promise<string> => (await readFile(file)).toString('base64');
  const cluster = o.inline ? { server, 'certificate-authority-data': await b64(pki.caCert) } : { server, 'certificate-authority': pki.caCert };
  const user = o.inline ? { 'client-certificate-data': await b64(cert), 'client-key-data': await b64(key) } : { 'client-certificate': cert, 'client-key': key };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name, context: { cluster: name, user: userName } }],
    'current-context': name,
  };
  // JSON is YAML: kubectl, helm and client-go read it as is.
  await writeFile(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return path;
}

interface CaSigner {
  readonly cert: x509.X509Certificate;
  readonly key: CryptoKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

interface IssuedPem {
  readonly cert: string;
  readonly key: string;
}

/** A leaf certificate (new P-256 key) signed by the CA for one extended key usage. */
async function signLeaf(ca: CaSigner, subject: string, usage: string, sans: x509.JsonGeneralName[]): Promise<IssuedPem> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await exportPrivateKeyPem(keys.privateKey) };
}

/** A client certificate file pair the API server authenticates by its CN (user) and O (groups). */
export interface ClientCredentials {
  readonly cert: string;
  readonly key: string;
}

/**
 * Issues a client certificate for `subject` (e.g. `CN=system:node:n1, O=system:nodes`) from the lab's
 * saved cluster CA and writes it to `files` (key 0600): how a node's credentials are made after the
 * control plane's own. Valid as long as the CA (and no longer).
 */
export async function issueClientCertificate(pki: ControlPlanePki, subject: string, files: ClientCredentials): Promise<ClientCredentials> {
  const cert = new x509.X509Certificate(await readFile(pki.caCert, 'utf8'));
  const key = await importPrivateKeyPem(await readFile(pki.caKey, 'utf8'));
  const notBefore = new Date(Math.max(cert.notBefore.getTime(), Date.now() - 5 * 60_000));
  const issued = await signLeaf({ cert, key, notBefore, notAfter: cert.notAfter }, subject, x509.ExtendedKeyUsage.clientAuth, []);
  await writeFile(files.key, issued.key, { mode: 0o600 });
  await writeFile(files.cert, issued.cert, { mode: 0o644 });
  return files;
}

function newKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

/** A positive 128-bit serial: Go's x509 parser refuses negative ones. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) || 0x01;
  return b.toString('hex');
}
