import { createHash } from 'node:crypto';
import type { GatewayObject } from '../sources/schemas.js';
import type { KubeObject } from '../sources/source.js';
import { CONTROL_PORT, HBONE_PORT, HEALTH_PORT, LABEL_DATAPLANE_MODE, METRICS_PORT } from '../../lib/names.js';

/** Field manager of every server-side apply the controller makes. */
export const WAYPOINT_FIELD_MANAGER = 'weft-waypoint-controller';
/** Labels on every generated object; `GATEWAY_LABEL` is the Gateway API's own. */
export const GATEWAY_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Hash of the desired object, so an unchanged object is not re-applied. */
export const CONFIG_HASH_ANNOTATION = 'weft.dev/config-hash';

export interface WaypointTemplateOptions {
  /** Default `weft/waypoint`. */
  readonly image?: string;
  /** `--control` of the waypoint (default `weft-control.weft-system.svc:15012`). */
  readonly controlAddress?: string;
  /** Where the pod finds its projected ServiceAccount token (audience weft). */
  readonly tokenPath?: string;
  /** Where the pod finds the control plane's root certificate (ConfigMap `weft-ca-root`). */
  readonly caRootPath?: string;
}

export const DEFAULT_CONTROL_ADDRESS = `weft-control.weft-system.svc:${CONTROL_PORT}`;
export const DEFAULT_TOKEN_PATH = '/var/run/secrets/tokens/weft-token';
export const DEFAULT_CA_ROOT_PATH = '/var/run/weft/ca/root-cert.pem';

/**
 * The ServiceAccount, Deployment and Service that run one waypoint (issue 6, "Waypoint controller"), all
 * named after the Gateway and owned by it. The Deployment's pod runs
 * `weft-waypoint --gateway <ns>/<name> --control <addr> --token-file <f> --ca-root <f>` (waypoint/main.ts) and is
 * labelled `weft.dev/dataplane-mode: none`: a waypoint terminates HBONE itself and is never captured.
 */
export function waypointObjects(gw: GatewayObject, options: WaypointTemplateOptions = {}): KubeObject[] {
  const name = gw.metadata.name;
  const namespace = gw.metadata.namespace ?? 'default';
  const labels = { [GATEWAY_LABEL]: name, [MANAGED_BY_LABEL]: WAYPOINT_FIELD_MANAGER };
  const ownerReferences = [
    { apiVersion: gw.apiVersion, kind: 'Gateway', name, uid: gw.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
  ];
  const meta = { name, namespace, labels, ownerReferences };
  const tokenPath = options.tokenPath ?? DEFAULT_TOKEN_PATH;
  const caRootPath = options.caRootPath ?? DEFAULT_CA_ROOT_PATH;
  const podLabels = { [GATEWAY_LABEL]: name, [LABEL_DATAPLANE_MODE]: 'none' };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: 1,
        selector: { matchLabels: { [GATEWAY_LABEL]: name } },
        template: {
          metadata: { labels: podLabels },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'waypoint',
                image: options.image ?? 'weft/waypoint',
                args: ['--gateway', `${namespace}/${name}`, '--control', options.controlAddress ?? DEFAULT_CONTROL_ADDRESS, '--token-file', tokenPath, '--ca-root', caRootPath],
                ports: [
                  { name: 'hbone', containerPort: HBONE_PORT, protocol: 'TCP' },
                  { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                  { name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/healthz/ready', port: HEALTH_PORT }, periodSeconds: 5 },
                volumeMounts: [
                  { name: 'weft-token', mountPath: dirOf(tokenPath), readOnly: true },
                  { name: 'weft-ca-root', mountPath: dirOf(caRootPath), readOnly: true },
                ],
              },
            ],
            volumes: [
              {
                name: 'weft-token',
                projected: { sources: [{ serviceAccountToken: { audience: 'weft', expirationSeconds: 3600, path: baseOf(tokenPath) } }] },
              },
              { name: 'weft-ca-root', configMap: { name: 'weft-ca-root', optional: true } },
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
  ];
  for (const o of objects) {
    o.metadata = { ...o.metadata, annotations: { [CONFIG_HASH_ANNOTATION]: hashOf(o) } };
  }
  return objects;
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
