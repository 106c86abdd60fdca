import { WeftError } from '../lib/errors/index.js';

/**
 * The lab's API server refuses what a Kubernetes API server refuses about an object's identity: a kind
 * it does not serve, an apiVersion that does not serve that kind, and names that break Kubernetes' name
 * rules (k8s.io/apimachinery/pkg/util/validation). These fields become file names (manifests.ts `manifestFileName`),
 * namespace and process names, so checking them here, where every object enters the lab (apply and every
 * read of the cluster directory), is what keeps a `..` or `/` away from the file system.
 */
export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const RULES: Record<NameRule, { readonly re: RegExp; readonly max: number; readonly text: string }> = {
  'dns1123-label': {
    re: new RegExp(`^${LABEL}$`),
    max: 63,
    text: 'an RFC 1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
  },
  'dns1123-subdomain': {
    re: new RegExp(`^${LABEL}(\\.${LABEL})*$`),
    max: 253,
    text: 'an RFC 1123 subdomain: at most 253 characters, "."-separated labels of lowercase letters, digits and "-", each starting and ending with a letter or digit',
  },
  'dns1035-label': {
    re: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    text: 'an RFC 1035 label: at most 63 lowercase letters, digits and "-", starting with a letter and ending with a letter or digit',
  },
};

export function isName(rule: NameRule, value: unknown): value is string {
  const r = RULES[rule];
  return typeof value === 'string' && value.length <= r.max && r.re.test(value);
}

export function nameRuleText(rule: NameRule): string {
  return RULES[rule].text;
}

export interface LabKind {
  readonly apiVersions: readonly string[];
  readonly namespaced: boolean;
  /** The rule for metadata.name, as the Kubernetes API server applies it to this kind. */
  readonly name: NameRule;
}

const V1 = ['v1'];
const GATEWAY_API = ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1alpha2'];

/** The kinds the lab serves: what it runs (Pods, Deployments, Services, volumes) and what weft reads. */
export const LAB_KINDS: Readonly<Record<string, LabKind>> = {
  Namespace: { apiVersions: V1, namespaced: false, name: 'dns1123-label' },
  Pod: { apiVersions: V1, namespaced: true, name: 'dns1123-subdomain' },
  Service: { apiVersions: V1, namespaced: true, name: 'dns1035-label' },
  ServiceAccount: { apiVersions: V1, namespaced: true, name: 'dns1123-subdomain' },
  ConfigMap: { apiVersions: V1, namespaced: true, name: 'dns1123-subdomain' },
  Secret: { apiVersions: V1, namespaced: true, name: 'dns1123-subdomain' },
  EndpointSlice: { apiVersions: ['discovery.k8s.io/v1'], namespaced: true, name: 'dns1123-subdomain' },
  Deployment: { apiVersions: ['apps/v1'], namespaced: true, name: 'dns1123-subdomain' },
  PodDisruptionBudget: { apiVersions: ['policy/v1'], namespaced: true, name: 'dns1123-subdomain' },
  Gateway: { apiVersions: GATEWAY_API, namespaced: true, name: 'dns1123-subdomain' },
  GatewayClass: { apiVersions: GATEWAY_API, namespaced: false, name: 'dns1123-subdomain' },
  HTTPRoute: { apiVersions: GATEWAY_API, namespaced: true, name: 'dns1123-subdomain' },
  GRPCRoute: { apiVersions: GATEWAY_API, namespaced: true, name: 'dns1123-subdomain' },
  ReferenceGrant: { apiVersions: ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1'], namespaced: true, name: 'dns1123-subdomain' },
  AuthorizationPolicy: { apiVersions: ['security.weft.dev/v1alpha1'], namespaced: true, name: 'dns1123-subdomain' },
};

export function labKind(kind: string): LabKind | undefined {
  return Object.prototype.hasOwnProperty.call(LAB_KINDS, kind) ? LAB_KINDS[kind] : undefined;
}

/** A refusal naming the field, the value and what is allowed (exit 2 at the CLI). */
export function fieldError(source: string, field: string, value: unknown, rule: string): WeftError {
  const shown = value === undefined ? '(missing)' : (JSON.stringify(value) ?? typeof value);
  return new WeftError('ERR_WEFT_LAB_FIELD_INVALID', { source, field, value: shown.length > 120 ? `${shown.slice(0, 117)}...` : shown, rule });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks kind, apiVersion, metadata.name and metadata.namespace; returns the kind's entry. */
export function checkIdentity(value: Record<string, unknown>, source: string): LabKind {
  const kind = value.kind;
  const info = typeof kind === 'string' ? labKind(kind) : undefined;
  if (!info) throw fieldError(source, 'kind', kind, `must be one of ${Object.keys(LAB_KINDS).join(', ')}`);
  const k = kind as string;
  if (!info.apiVersions.includes(value.apiVersion as string)) throw fieldError(source, `apiVersion of ${k}`, value.apiVersion, `must be ${info.apiVersions.join(' or ')}`);
  const meta = isRecord(value.metadata) ? value.metadata : {};
  if (!isName(info.name, meta.name)) throw fieldError(source, `metadata.name of ${k}`, meta.name, `must be ${nameRuleText(info.name)}`);
  if (meta.namespace !== undefined && !isName('dns1123-label', meta.namespace)) {
    throw fieldError(source, `metadata.namespace of ${k} ${meta.name}`, meta.namespace, `must be ${nameRuleText('dns1123-label')}`);
  }
  return info;
}

/** ConfigMap and Secret keys (IsConfigMapKey): they become file names in a pod's volume directory. */
export function isConfigMapKey(key: string): boolean {
  return key.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(key) && key !== '.' && !key.startsWith('..');
}

/** A relative path without `..` elements (projected volume item paths), as Kubernetes requires. */
export function isVolumeRelativePath(p: unknown): p is string {
  return typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').includes('..');
}

interface PodNamesInput {
  readonly containers: readonly { name?: unknown }[];
  readonly volumes?: unknown;
  readonly nodeName?: unknown;
}

/** Names inside a pod spec that reach the file system: container names, volume names, item paths. */
export function checkPodSpecNames(spec: PodNamesInput, where: string, source: string): void {
  for (const c of spec.containers) {
    if (!isName('dns1123-label', c.name)) throw fieldError(source, `${where}: container name`, c.name, `must be ${nameRuleText('dns1123-label')}`);
  }
  if (spec.nodeName !== undefined && !isName('dns1123-subdomain', spec.nodeName)) {
    throw fieldError(source, `${where}: spec.nodeName`, spec.nodeName, `must be ${nameRuleText('dns1123-subdomain')}`);
  }
  if (spec.volumes === undefined) return;
  if (!Array.isArray(spec.volumes)) throw fieldError(source, `${where}: spec.volumes`, spec.volumes, 'must be a list');
  for (const v of spec.volumes as unknown[]) {
    const vol = isRecord(v) ? v : {};
    if (!isName('dns1123-label', vol.name)) throw fieldError(source, `${where}: volume name`, vol.name, `must be ${nameRuleText('dns1123-label')}`);
    const sources = isRecord(vol.projected) && Array.isArray(vol.projected.sources) ? (vol.projected.sources as unknown[]) : [];
    for (const s of sources) {
      const token = isRecord(s) && isRecord(s.serviceAccountToken) ? s.serviceAccountToken : undefined;
      if (token && !isVolumeRelativePath(token.path)) {
        throw fieldError(source, `${where}: volume ${vol.name} serviceAccountToken.path`, token.path, 'must be a relative path without ".." elements');
      }
    }
    if (isRecord(vol.configMap) && !isName('dns1123-subdomain', vol.configMap.name)) {
      throw fieldError(source, `${where}: volume ${vol.name} configMap.name`, vol.configMap.name, `must be ${nameRuleText('dns1123-subdomain')}`);
    }
  }
}

/** ConfigMap/Secret `data` keys. */
export function checkDataKeys(obj: Record<string, unknown>, where: string, source: string): void {
  for (const field of ['data', 'binaryData', 'stringData']) {
    const data = obj[field];
    if (data === undefined) continue;
    if (!isRecord(data)) throw fieldError(source, `${where}: ${field}`, data, 'must be a mapping of keys to strings');
    for (const key of Object.keys(data)) {
      if (!isConfigMapKey(key)) throw fieldError(source, `${where}: ${field} key`, key, 'must be letters, digits, "-", "_" or "." (at most 253), not "." and not starting with ".."');
    }
  }
}
