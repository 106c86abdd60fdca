import {
  ApiException,
  AuthorizationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  loadYaml,
  type Configuration,
  type KubeConfig,
  type KubernetesObject,
  type V1APIResource,
} from '@kubernetes/client-node';
import { WeftError } from '../errors/index.js';
import { FIELD_MANAGER, refString, type ClusterClient, type ClusterTarget, type KubeObject, type ListOptions, type ObjectRef, type ServerVersion } from './cluster-client.js';
import { ALL_TYPES, groupOf, type ResourceType } from './resources.js';

/**
 * The cluster client for a Kubernetes API server, through the current
 * kubeconfig. Resource paths come from the CLI's own type table, not from discovery, so that a missing
 * API group is reported as "not installed" rather than as a failed discovery call.
 */
export interface KubeClusterOptions {
  /** Field manager of server-side apply (default `weft`; `weft lab apply` writes as `weft-lab`). */
  readonly fieldManager?: string;
  /** What the client talks to, when that is a lab (its API server) rather than a kubeconfig's cluster. */
  readonly target?: ClusterTarget;
}

export class KubeClusterClient implements ClusterClient {
  readonly target: ClusterTarget;
  private readonly objects: TypedObjectApi;
  private readonly fieldManager: string;

  constructor(
    private readonly kc: KubeConfig,
    o: KubeClusterOptions = {},
  ) {
    this.target = o.target ?? { kind: 'kubernetes', context: kc.getCurrentContext(), server: this.server };
    this.fieldManager = o.fieldManager ?? FIELD_MANAGER;
    this.objects = kc.makeApiClient(TypedObjectApi);
  }

  /** The API server's address, as the kubeconfig names it. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '(unknown)';
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      const got = await this.objects.read(header(ref));
      return plain(got, ref.type);
    } catch (err) {
      if (isObjectNotFound(err)) return undefined;
      throw this.mapError(err, 'get', refString(ref), ref.type);
    }
  }

  async list(type: ResourceType, options: ListOptions = {}): Promise<KubeObject[]> {
    try {
      const list = await this.objects.list(type.apiVersion, type.kind, type.namespaced ? options.namespace : undefined, undefined, undefined, undefined, undefined, options.labelSelector);
      return list.items.map((item) => plain(item, type));
    } catch (err) {
      throw this.mapError(err, 'list', type.plural, type);
    }
  }

  async apply(object: KubeObject): Promise<KubeObject> {
    const type = { apiVersion: object.apiVersion, kind: object.kind };
    // client-node serializes a kind it knows through its typed model, which reads the model's property
    // names (`_enum`, `x_kubernetes_validations`), not the wire names: a plain CRD would lose its enums,
    // defaults and validation rules. Loading the plain object gives it the model (JSON is YAML).
    const body = loadYaml<KubernetesObject>(JSON.stringify(object));
    try {
      const stored = await this.objects.patch(body, undefined, undefined, this.fieldManager, true, PatchStrategy.ServerSideApply);
      return plain(stored, type);
    } catch (err) {
      // A namespace that does not exist (a typo) is not a kind the cluster lacks.
      if (isObjectNotFound(err) && statusBody(err as ApiException<unknown>)?.details?.kind === 'namespaces') {
        throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `namespace ${object.metadata.namespace ?? ''}` }, { cause: err });
      }
      throw this.mapError(err, 'apply', `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`, type);
    }
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Foreground');
      return true;
    } catch (err) {
      if (isObjectNotFound(err)) return false;
      throw this.mapError(err, 'delete', refString(ref), ref.type);
    }
  }

  async setLabels(ref: ObjectRef, labels: Readonly<Record<string, string | null>>): Promise<KubeObject> {
    const patch = { ...header(ref), metadata: { ...header(ref).metadata, labels } };
    try {
      const stored = await this.objects.patch(patch as KubernetesObject, undefined, undefined, this.fieldManager, undefined, PatchStrategy.MergePatch);
      return plain(stored, ref.type);
    } catch (err) {
      if (isObjectNotFound(err)) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: refString(ref) });
      throw this.mapError(err, 'label', refString(ref), ref.type);
    }
  }

  async serverVersion(): Promise<ServerVersion> {
    try {
      const v = await this.kc.makeApiClient(VersionApi).getCode();
      return { major: Number.parseInt(v.major, 10), minor: Number.parseInt(v.minor, 10), gitVersion: v.gitVersion };
    } catch (err) {
      throw this.mapError(err, 'get', 'server version', undefined);
    }
  }

  async canI(verb: string, type: ResourceType, namespace?: string): Promise<boolean> {
    try {
      const review = await this.kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, group: groupOf(type), resource: type.plural, ...(namespace === undefined ? {} : { namespace }) } },
        },
      });
      return review.status?.allowed === true;
    } catch (err) {
      throw this.mapError(err, 'create', 'selfsubjectaccessreviews', undefined);
    }
  }

  private mapError(err: unknown, verb: string, resource: string, type: Pick<ResourceType, 'apiVersion' | 'kind'> | undefined): WeftError {
    if (err instanceof WeftError) return err;
    if (err instanceof ApiException) {
      const status = statusBody(err);
      const reason = status?.message ?? (typeof err.body === 'string' ? err.body.slice(0, 200) : err.message);
      if (err.code === 404 && type !== undefined) return new WeftError('ERR_WEFT_CLI_API_NOT_INSTALLED', { apiVersion: type.apiVersion, kind: type.kind }, { cause: err });
      // 401: who you are was not accepted (bad or expired credentials); 403: you are not allowed.
      if (err.code === 401) return new WeftError('ERR_WEFT_CLI_UNAUTHENTICATED', { server: this.server, reason: status?.message ?? 'Unauthorized' }, { cause: err });
      if (err.code === 403) return new WeftError('ERR_WEFT_CLI_FORBIDDEN', { verb, resource, reason }, { cause: err });
      return new WeftError('ERR_WEFT_CLI_API_ERROR', { verb, resource, status: err.code, reason }, { cause: err });
    }
    return new WeftError('ERR_WEFT_CLI_API_UNREACHABLE', { server: this.server, reason: networkReason(err) }, { cause: err });
  }
}

/** KubernetesObjectApi with resource names from the CLI's table instead of a discovery round trip. */
class TypedObjectApi extends KubernetesObjectApi {
  protected override resource(apiVersion: string, kind: string, _options?: Configuration): Promise<V1APIResource | undefined> {
    const t = TYPES_BY_KEY.get(`${apiVersion}/${kind}`);
    if (t === undefined) return super.resource(apiVersion, kind);
    return Promise.resolve({ kind: t.kind, name: t.plural, namespaced: t.namespaced, singularName: t.kind.toLowerCase(), verbs: [] });
  }
}

const TYPES_BY_KEY = new Map<string, ResourceType>(ALL_TYPES.map((t) => [`${t.apiVersion}/${t.kind}`, t]));

function header(ref: ObjectRef): KubernetesObject & { metadata: { name: string; namespace?: string } } {
  return {
    apiVersion: ref.type.apiVersion,
    kind: ref.type.kind,
    metadata: { name: ref.name, ...(ref.type.namespaced ? { namespace: ref.namespace ?? 'default' } : {}) },
  };
}

/** Typed client models carry Date objects and undefined fields; commands work on plain JSON. */
function plain(obj: unknown, type: Pick<ResourceType, 'apiVersion' | 'kind'>): KubeObject {
  const o = JSON.parse(JSON.stringify(obj)) as KubeObject;
  o.apiVersion ??= type.apiVersion;
  o.kind ??= type.kind;
  return o;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string };
}

function statusBody(err: ApiException<unknown>): StatusBody | undefined {
  let body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body) : undefined;
}

/** A 404 about the object itself (Status with details.name), not about a resource type the server lacks. */
function isObjectNotFound(err: unknown): boolean {
  if (!(err instanceof ApiException) || err.code !== 404) return false;
  return statusBody(err)?.details?.name !== undefined;
}

function networkReason(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return `${code} (${e.message})`;
    e = e.cause;
  }
  return err instanceof Error ? err.message : String(err);
}
