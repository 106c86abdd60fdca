import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';
import { issueClientCertificate, writeKubeconfig, type ClientCredentials, type ControlPlanePki } from './pki.js';

/**
 * A lab node's credentials, as a kubelet's are after its TLS bootstrap: a client certificate for the user
 * `system:node:<node>` in the group `system:nodes` (the identity the API server's Node authorizer and the
 * NodeRestriction admission plugin recognise), signed by the lab's cluster CA, and a kubeconfig naming
 * the API server as lab namespaces reach it. Made once per node; `up` run again keeps them.
 */
export function nodeUser(node: string): string {
  return `system:node:${node}`;
}

export interface NodeCredentialFiles extends ClientCredentials {
  readonly kubeconfig: string;
}

/** Where a node's credentials live: beside the control plane's (`<lab>/kube/`), removed with the lab. */
export function nodeCredentialFiles(kubeDir: string, pkiDir: string, node: string): NodeCredentialFiles {
  return {
    cert: join(pkiDir, `node-${node}.crt`),
    key: join(pkiDir, `node-${node}.key`),
    kubeconfig: join(kubeDir, `kubelet-${node}.kubeconfig`),
  };
}

export async function ensureNodeCredentials(pki: ControlPlanePki, files: NodeCredentialFiles, node: string, server: string): Promise<NodeCredentialFiles> {
  // The kubeconfig is written last: present means complete.
  if (existsSync(files.kubeconfig)) return files;
  if (!existsSync(pki.caKey)) {
    throw new WeftError('ERR_WEFT_LAB_KUBE_START_FAILED', {
      component: `kubelet-${node} credentials`,
      reason: `the lab's cluster CA key ${pki.caKey} is missing (a lab made by an older weft): run \`weft lab down\`, then \`weft lab up\``,
      log: '(none)',
      tail: '(none)',
    });
  }
  await issueClientCertificate(pki, `CN=${nodeUser(node)}, O=system:nodes`, files);
  await writeKubeconfig(files.kubeconfig, pki, { user: nodeUser(node), files }, server);
  return files;
}
