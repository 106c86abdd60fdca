import { z } from 'zod';

/**
 * The enrollment contract between `weft-cni` and the node agent: JSON over HTTP/1.1 on the agent's unix
 * socket (default /var/run/weft/cni.sock). One endpoint per CNI command:
 *
 *   POST /v1/cni/add    body EnrollmentRequest  → 200 EnrollmentResponse
 *   POST /v1/cni/del    body EnrollmentRequest  → 200 EnrollmentResponse
 *   POST /v1/cni/check  body EnrollmentRequest  → 200 EnrollmentResponse
 *   GET  /v1/healthz                            → 200
 *
 * Any non-200 answer carries EnrollmentError; the plugin turns it into a CNI error (code ≥ 100) and a
 * failed ADD, so no pod that must be captured starts unprotected.
 */
export const DEFAULT_CNI_SOCKET = '/var/run/weft/cni.sock';

export const EnrollmentRequestSchema = z.object({
  command: z.enum(['ADD', 'DEL', 'CHECK']),
  containerId: z.string().min(1),
  /** CNI_NETNS: path of the pod's network namespace (may be empty on DEL). */
  netns: z.string(),
  ifname: z.string().default('eth0'),
  podNamespace: z.string().min(1),
  podName: z.string().min(1),
  podUid: z.string().default(''),
  /** The plugin's stdin config as received (name, cniVersion, plugin options). */
  config: z.record(z.string(), z.unknown()),
  /** The previous plugin's result (ADD/CHECK); the agent reads the pod IPs from it. */
  prevResult: z.record(z.string(), z.unknown()).optional(),
});
export type EnrollmentRequest = z.infer<typeof EnrollmentRequestSchema>;

export const EnrollmentResponseSchema = z.object({
  /** Whether the pod's traffic is now captured (false: passed through, e.g. namespace not ambient). */
  captured: z.boolean(),
  /** Short reason, e.g. `namespace not labelled`, `dataplane-mode=none`, `enrolled`. */
  reason: z.string().default(''),
});
export type EnrollmentResponse = z.infer<typeof EnrollmentResponseSchema>;

export const EnrollmentErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().default(''),
});
export type EnrollmentError = z.infer<typeof EnrollmentErrorSchema>;
