import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CertificateAuthority } from '../lib/identity/index.js';
import { WeftError, isWeftError } from '../lib/errors/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import { silentLogger } from '../lib/telemetry/log.js';
import type { KubeApi } from './sources/kube-api.js';

/**
 * Persistence of the control plane's CA (issue 6, "CA material"): generated on first start and kept, or
 * provided by the user as a root or an intermediate. Kubernetes keeps it in the Secret `weft-ca` of the
 * control namespace, directory mode in files under `--ca-dir`. Several replicas starting together must end
 * up with the SAME CA: each generates a candidate, tries to create the Secret (only one create succeeds,
 * the others get 409), and every replica then loads whatever the store holds (create-if-absent + read-back).
 */

/** The stored form. `certChainPem`: the CA certificate first, then its parents up to the root. */
export interface CaMaterial {
  readonly certChainPem: string;
  readonly keyPem: string;
  /** Extra trusted roots (e.g. the previous root during a rotation), PEM concatenated. */
  readonly extraRootsPem?: string;
}

export interface CaBackend {
  /** Human-readable location for logs and errors. */
  readonly origin: string;
  read(): Promise<CaMaterial | undefined>;
  /** Stores `material` unless something is stored already; true when this call created it. */
  createIfAbsent(material: CaMaterial): Promise<boolean>;
}

export const CA_SECRET_NAME = 'weft-ca';
export const CA_CERT_KEY = 'ca.crt';
export const CA_KEY_KEY = 'ca.key';
export const CA_EXTRA_ROOTS_KEY = 'roots.pem';

/** The Secret `weft-ca` (type `weft.dev/ca`) in the control namespace. */
export class SecretCaBackend implements CaBackend {
  readonly origin: string;

  constructor(
    private readonly api: Pick<KubeApi, 'getSecret' | 'createSecret'>,
    private readonly namespace: string,
    private readonly name = CA_SECRET_NAME,
  ) {
    this.origin = `Secret ${namespace}/${name}`;
  }

  async read(): Promise<CaMaterial | undefined> {
    const secret = await this.api.getSecret(this.namespace, this.name);
    if (secret === undefined) return undefined;
    const data = secret.data ?? {};
    const cert = data[CA_CERT_KEY];
    const key = data[CA_KEY_KEY];
    if (cert === undefined || key === undefined) {
      throw new WeftError('ERR_WEFT_CA_STORE_INVALID', { origin: this.origin, reason: `the Secret lacks ${CA_CERT_KEY} or ${CA_KEY_KEY}` });
    }
    const extra = data[CA_EXTRA_ROOTS_KEY];
    return {
      certChainPem: fromBase64(cert),
      keyPem: fromBase64(key),
      ...(extra === undefined ? {} : { extraRootsPem: fromBase64(extra) }),
    };
  }

  async createIfAbsent(material: CaMaterial): Promise<boolean> {
    const data: Record<string, string> = {
      [CA_CERT_KEY]: toBase64(material.certChainPem),
      [CA_KEY_KEY]: toBase64(material.keyPem),
    };
    if (material.extraRootsPem !== undefined) data[CA_EXTRA_ROOTS_KEY] = toBase64(material.extraRootsPem);
    const res = await this.api.createSecret(this.namespace, {
      metadata: { name: this.name, labels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/component': 'ca' } },
      type: 'weft.dev/ca',
      data,
    });
    return res.ok;
  }
}

/** Files `ca.crt`, `ca.key` (mode 0600) and optional `roots.pem` in a directory. */
export class DirectoryCaBackend implements CaBackend {
  readonly origin: string;

  constructor(private readonly dir: string) {
    this.origin = `directory ${dir}`;
  }

  async read(): Promise<CaMaterial | undefined> {
    let cert = await readOptional(path.join(this.dir, CA_CERT_KEY));
    let key = await readOptional(path.join(this.dir, CA_KEY_KEY));
    // A creator links the key before it renames the certificate into place: give it a moment.
    for (let i = 0; i < 20 && key !== undefined && cert === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      cert = await readOptional(path.join(this.dir, CA_CERT_KEY));
      key = await readOptional(path.join(this.dir, CA_KEY_KEY));
    }
    if (cert === undefined && key === undefined) return undefined;
    if (cert === undefined || key === undefined) {
      throw new WeftError('ERR_WEFT_CA_STORE_INVALID', { origin: this.origin, reason: `only one of ${CA_CERT_KEY} and ${CA_KEY_KEY} exists` });
    }
    const extra = await readOptional(path.join(this.dir, CA_EXTRA_ROOTS_KEY));
    return { certChainPem: cert, keyPem: key, ...(extra === undefined ? {} : { extraRootsPem: extra }) };
  }

  /**
   * The key is hard-linked into place first: link() fails with EEXIST when another process won, which makes
   * `ca.key` the create-once marker; only the winner then renames its certificate into place. A reader that
   * sees the key before the certificate waits briefly (see `read`).
   */
  async createIfAbsent(material: CaMaterial): Promise<boolean> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const suffix = randomBytes(4).toString('hex');
    const tmpKey = path.join(this.dir, `.${CA_KEY_KEY}.${suffix}.tmp`);
    const tmpCert = path.join(this.dir, `.${CA_CERT_KEY}.${suffix}.tmp`);
    try {
      await writeFile(tmpKey, material.keyPem, { mode: 0o600, flag: 'wx' });
      await writeFile(tmpCert, material.certChainPem, { mode: 0o644, flag: 'wx' });
      try {
        await link(tmpKey, path.join(this.dir, CA_KEY_KEY));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
      await rename(tmpCert, path.join(this.dir, CA_CERT_KEY));
      if (material.extraRootsPem !== undefined) await writeFile(path.join(this.dir, CA_EXTRA_ROOTS_KEY), material.extraRootsPem);
      return true;
    } finally {
      await rm(tmpKey, { force: true });
      await rm(tmpCert, { force: true });
    }
  }
}

export interface LoadedCa {
  readonly ca: CertificateAuthority;
  /** Every root the trust bundle must hold: the CA's own root first, then extra roots. */
  readonly rootsPem: string[];
  /** True when this replica generated the stored CA. */
  readonly created: boolean;
  readonly origin: string;
  /** What the backend held (the CA reloader compares against it). */
  readonly material: CaMaterial;
}

export interface LoadOrCreateOptions {
  readonly backend: CaBackend;
  readonly trustDomain: string;
  /** A root or intermediate the user gave (flags/files); stored if the backend is empty, else must match it. */
  readonly provided?: CaMaterial;
  /** Lifetime of the leaves the loaded CA issues (weft-control's --leaf-lifetime); default 24 h. */
  readonly leafLifetimeSeconds?: number;
  readonly logger?: Logger;
  /** Read-back attempts after losing a create race (the winner may still be writing). */
  readonly readBackAttempts?: number;
}

/**
 * Loads the CA from the backend, creating it once if the backend is empty. Every replica returns the CA
 * the backend ends up holding, whoever created it.
 */
export async function loadOrCreateCa(options: LoadOrCreateOptions): Promise<LoadedCa> {
  const log = (options.logger ?? silentLogger).child({ component: 'ca-store' });
  const { backend } = options;
  let created = false;
  let stored = await backend.read();
  if (stored === undefined) {
    const candidate = options.provided ?? (await generate(options.trustDomain));
    created = await backend.createIfAbsent(candidate);
    log.info({ origin: backend.origin, created, provided: options.provided !== undefined }, created ? 'stored CA material' : 'another replica stored the CA first; using it');
    const attempts = options.readBackAttempts ?? 20;
    for (let i = 0; i < attempts && stored === undefined; i++) {
      try {
        stored = await backend.read();
      } catch (err) {
        // The winner may be between writing the two files (directory mode).
        if (!isWeftError(err) || i === attempts - 1) throw err;
      }
      if (stored === undefined) await new Promise((r) => setTimeout(r, 50 * (i + 1)));
    }
    if (stored === undefined) {
      throw new WeftError('ERR_WEFT_CA_STORE_INVALID', { origin: backend.origin, reason: 'the CA material vanished right after it was created' });
    }
  } else if (options.provided !== undefined && stored.certChainPem.trim() !== options.provided.certChainPem.trim()) {
    log.warn({ origin: backend.origin }, 'the stored CA differs from the provided one; using the stored CA (delete it to switch)');
  }
  const { ca, rootsPem } = await loadMaterial(stored, options, backend.origin);
  return { ca, rootsPem, created, origin: backend.origin, material: stored };
}

/**
 * The CA and trust bundle of stored material: the CA's own root first (the signing root data planes renew
 * towards, docs/rotation.md), then the extra roots. Throws ERR_WEFT_CA_STORE_INVALID (e.g. ca.key does not
 * match ca.crt).
 */
export async function loadMaterial(
  stored: CaMaterial,
  options: { readonly trustDomain: string; readonly leafLifetimeSeconds?: number },
  origin: string,
): Promise<{ ca: CertificateAuthority; rootsPem: string[] }> {
  let ca: CertificateAuthority;
  try {
    ca = await CertificateAuthority.load({ certChainPem: stored.certChainPem, keyPem: stored.keyPem, trustDomain: options.trustDomain, maxLifetimeSeconds: options.leafLifetimeSeconds });
  } catch (err) {
    throw new WeftError('ERR_WEFT_CA_STORE_INVALID', { origin, reason: (err as Error).message }, { cause: err });
  }
  const rootsPem = [...ca.rootsPem, ...splitPem(stored.extraRootsPem ?? '')].filter((p, i, all) => all.findIndex((q) => q.trim() === p.trim()) === i);
  return { ca, rootsPem };
}

/** True when two stored forms hold the same CA and roots. */
export function sameMaterial(a: CaMaterial, b: CaMaterial): boolean {
  return a.certChainPem.trim() === b.certChainPem.trim() && a.keyPem.trim() === b.keyPem.trim() && (a.extraRootsPem ?? '').trim() === (b.extraRootsPem ?? '').trim();
}

/** Reads a user-provided CA from files (`--ca-cert` chain + `--ca-key`). */
export async function readProvidedCa(certChainFile: string, keyFile: string): Promise<CaMaterial> {
  const [certChainPem, keyPem] = await Promise.all([readFile(certChainFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { certChainPem, keyPem };
}

async function generate(trustDomain: string): Promise<CaMaterial> {
  const root = await CertificateAuthority.createRoot({ trustDomain });
  return { certChainPem: root.certPem, keyPem: root.keyPem };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function splitPem(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => `${b}\n`);
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function fromBase64(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}
