import { createHash } from 'node:crypto';
import type { GatewayObject } from '../sources/schemas.js';
import type { KubeObject } from '../sources/source.js';
import { ANNOTATION_PROMETHEUS_PORT, ANNOTATION_PROMETHEUS_SCRAPE, CONTROL_PORT, HBONE_PORT, HEALTH_PORT, LABEL_DATAPLANE_MODE, METRICS_PORT, WAYPOINT_CLASS } from '../../lib/names.js';
import { clientVersion } from '../../lib/package-root.js';
import type { WaypointParameters } from './parameters.js';

/** Field manager of every server-side apply the controller makes. */
export const WAYPOINT_FIELD_MANAGER = 'weft-waypoint-controller';
/** Labels on every generated object; `GATEWAY_LABEL` is the Gateway API's own. */
export const GATEWAY_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Hash of the desired object, so an unchanged object is not re-applied. */
export const CONFIG_HASH_ANNOTATION = 'weft.dev/config-hash';

export interface WaypointTemplateOptions {
  /** `--waypoint-image`; default DEFAULT_WAYPOINT_IMAGE. The GatewayClass parameters' `image` wins. */
  readonly image?: string;
  /** `--control` of the waypoint: `--waypoint-control-address`, else the Service of the control plane's
   *  own namespace (controlAddressIn). The GatewayClass parameters' `controlAddress` wins. */
  readonly controlAddress?: string;
  /** Where the pod finds its projected ServiceAccount token (audience weft). */
  readonly tokenPath?: string;
  /** Where the pod finds the control plane's root certificate (ConfigMap `weft-ca-root`). */
  readonly caRootPath?: string;
  /** Replicas of each waypoint (`--waypoint-replicas`, chart `waypoint.replicas`; default 2); a Gateway's
   *  `weft.dev/waypoint-replicas` annotation overrides it for that waypoint. */
  readonly replicas?: number;
}

export const DEFAULT_WAYPOINT_REPLICAS = 2;
/** Per-Gateway override of the replica count (an integer 1–100; anything else is ignored). */
export const REPLICAS_ANNOTATION = 'weft.dev/waypoint-replicas';
const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';

/** The chart's default image (one image holds every weft process; its entrypoint is the waypoint). */
export const DEFAULT_WAYPOINT_IMAGE = `ghcr.io/weft-mesh/weft:${clientVersion()}`;
/** Requests and limits of a waypoint container when the GatewayClass parameters set none (the chart's defaults). */
export const DEFAULT_WAYPOINT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } };
/** Pod and container securityContext when the parameters set none: the waypoint needs no privilege at all. */
export const DEFAULT_WAYPOINT_POD_SECURITY_CONTEXT = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };
export const DEFAULT_WAYPOINT_SECURITY_CONTEXT = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

/** The control plane's Service in its namespace, as the chart names it (weft.controlAddress in _helpers.tpl). */
export function controlAddressIn(namespace: string): string {
  return `weft-control.${namespace}.svc:${CONTROL_PORT}`;
}
export const DEFAULT_CONTROL_ADDRESS = controlAddressIn('weft-system');
export const DEFAULT_TOKEN_PATH = '/var/run/secrets/tokens/weft-token';
export const DEFAULT_CA_ROOT_PATH = '/var/run/weft/ca/root-cert.pem';

/**
 * The ServiceAccount, Deployment, Service and PodDisruptionBudget that run one waypoint (issue 6,
 * "Waypoint controller"; issue 13 item 5), all named after the Gateway and owned by it. Two replicas by
 * default, spread over nodes (preferred, so a one-node cluster still runs both), and a budget that lets a
 * drain take one at a time: losing a replica leaves the other serving while node agents move to it. The Deployment's pod runs
 * `weft-waypoint --gateway <ns>/<name> --control <addr> --token-file <f> --ca-root <f>` (waypoint/main.ts) and is
 * labelled `weft.dev/dataplane-mode: none`: a waypoint terminates HBONE itself and is never captured.
 */
export function waypointObjects(gw: GatewayObject, options: WaypointTemplateOptions = {}, params: WaypointParameters = {}): KubeObject[] {
  const name = gw.metadata.name;
  const namespace = gw.metadata.namespace ?? 'default';
  const labels = { [GATEWAY_LABEL]: name, [MANAGED_BY_LABEL]: WAYPOINT_FIELD_MANAGER };
  const ownerReferences = [
    { apiVersion: gw.apiVersion, kind: 'Gateway', name, uid: gw.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
  ];
  const meta = { name, namespace, labels, ownerReferences };
  const tokenPath = options.tokenPath ?? DEFAULT_TOKEN_PATH;
  const caRootPath = options.caRootPath ?? DEFAULT_CA_ROOT_PATH;
  // The class label as Gateway API implementations set it on what they deploy: the chart's waypoint
  // PodMonitor selects waypoint pods in every namespace by it.
  const podLabels = { [GATEWAY_LABEL]: name, [GATEWAY_CLASS_LABEL]: WAYPOINT_CLASS, [LABEL_DATAPLANE_MODE]: 'none' };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: replicasOf(gw, params.replicas ?? options.replicas),
        selector: { matchLabels: { [GATEWAY_LABEL]: name } },
        template: {
          // Scraped by the kubernetes-pods job of a Prometheus (and the lab's), as the chart's own pods are.
          metadata: { labels: podLabels, annotations: { [ANNOTATION_PROMETHEUS_SCRAPE]: 'true', [ANNOTATION_PROMETHEUS_PORT]: String(METRICS_PORT) } },
          spec: {
            serviceAccountName: name,
            ...(params.imagePullSecrets === undefined || params.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: params.imagePullSecrets.map((s) => ({ name: s.name })) }),
            securityContext: params.podSecurityContext ?? DEFAULT_WAYPOINT_POD_SECURITY_CONTEXT,
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: HOSTNAME_TOPOLOGY_KEY, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { [GATEWAY_LABEL]: name } } },
            ],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: HOSTNAME_TOPOLOGY_KEY, labelSelector: { matchLabels: { [GATEWAY_LABEL]: name } } } },
                ],
              },
            },
            containers: [
              {
                name: 'waypoint',
                image: params.image ?? options.image ?? DEFAULT_WAYPOINT_IMAGE,
                ...(params.imagePullPolicy === undefined ? {} : { imagePullPolicy: params.imagePullPolicy }),
                args: [
                  '--gateway', `${namespace}/${name}`,
                  '--control', params.controlAddress ?? options.controlAddress ?? DEFAULT_CONTROL_ADDRESS,
                  '--token-file', tokenPath,
                  '--ca-root', caRootPath,
                  ...(params.logLevel === undefined ? [] : ['--log-level', params.logLevel]),
                ],
                resources: params.resources ?? DEFAULT_WAYPOINT_RESOURCES,
                securityContext: params.securityContext ?? DEFAULT_WAYPOINT_SECURITY_CONTEXT,
                ports: [
                  { name: 'hbone', containerPort: HBONE_PORT, protocol: 'TCP' },
                  { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                  { name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' },
                ],
                // Ready once its HBONE listener is serving and its discovery state is synced (waypoint/main.ts);
                // probed often, since Programmed and enrollment wait for it.
                readinessProbe: { httpGet: { path: '/healthz/ready', port: HEALTH_PORT }, periodSeconds: 2 },
                volumeMounts: [
                  { name: 'weft-token', mountPath: dirOf(tokenPath), readOnly: true },
                  { name: 'weft-ca-root', mountPath: dirOf(caRootPath), readOnly: true },
                  // A writable /tmp under a read-only root filesystem (Node's os.tmpdir()).
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              {
                name: 'weft-token',
                projected: { sources: [{ serviceAccountToken: { audience: 'weft', expirationSeconds: 3600, path: baseOf(tokenPath) } }] },
              },
              { name: 'weft-ca-root', configMap: { name: 'weft-ca-root', optional: true } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        selector: { [GATEWAY_LABEL]: name },
        ports: [{ name: 'mesh', port: HBONE_PORT, targetPort: HBONE_PORT, protocol: 'TCP', appProtocol: 'hbone' }],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta,
      // maxUnavailable (not minAvailable 1) by default: with one replica a drain may still evict it.
      spec: { ...(params.podDisruptionBudget ?? { maxUnavailable: 1 }), selector: { matchLabels: { [GATEWAY_LABEL]: name } } },
    },
  ];
  for (const o of objects) {
    o.metadata = { ...o.metadata, annotations: { [CONFIG_HASH_ANNOTATION]: hashOf(o) } };
  }
  return objects;
}

/** The Gateway's annotation, else the class parameters' or the flag's count, else the default. */
function replicasOf(gw: GatewayObject, configured: number | undefined): number {
  const raw = gw.metadata.annotations?.[REPLICAS_ANNOTATION];
  const n = raw !== undefined && /^\d{1,3}$/.test(raw) ? Number(raw) : undefined;
  if (n !== undefined && n >= 1 && n <= 100) return n;
  return configured ?? DEFAULT_WAYPOINT_REPLICAS;
}

function hashOf(o: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);
}

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

function baseOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
