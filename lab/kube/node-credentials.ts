import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';
import { issueClientCertificate, writeKubeconfig, type ClientCredentials, type ControlPlanePki } from './pki.js';

/**
 * The credentials of a lab node's agents, as a node's are after its TLS bootstrap, each a client
 * certificate signed by the lab's cluster CA and a kubeconfig naming the API server as lab namespaces
 * reach it:
 * - the kubelet's: the user `system:node:<node>` in the group `system:nodes` (the identity the API
 *   server's Node authorizer and the NodeRestriction admission plugin recognise);
 * - kube-proxy's: the user `system:kube-proxy`, which the default binding `system:node-proxier` lets
 *   list and watch every Service and EndpointSlice (one for the lab, shared by its nodes, as clusters
 *   usually give kube-proxy one kubeconfig).
 * Made once; `up` run again keeps them.
 */
export function nodeUser(node: string): string {
  return `system:node:${node}`;
}

export const KUBE_PROXY_USER = 'system:kube-proxy';

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

/** Where kube-proxy's credentials live. */
export function proxyCredentialFiles(kubeDir: string, pkiDir: string): NodeCredentialFiles {
  return {
    cert: join(pkiDir, 'kube-proxy.crt'),
    key: join(pkiDir, 'kube-proxy.key'),
    kubeconfig: join(kubeDir, 'kube-proxy.kubeconfig'),
  };
}

export function ensureNodeCredentials(pki: ControlPlanePki, files: NodeCredentialFiles, node: string, server: string): Promise<NodeCredentialFiles> {
  return ensureClientCredentials(pki, files, { user: nodeUser(node), subject: `CN=${nodeUser(node)}, O=system:nodes`, component: `kubelet-${node} credentials` }, server);
}

export function ensureProxyCredentials(pki: ControlPlanePki, files: NodeCredentialFiles, server: string): Promise<NodeCredentialFiles> {
  return ensureClientCredentials(pki, files, { user: KUBE_PROXY_USER, subject: `CN=${KUBE_PROXY_USER}`, component: 'kube-proxy credentials' }, server);
}

async function ensureClientCredentials(
  pki: ControlPlanePki,
  files: NodeCredentialFiles,
  who: { user: string; subject: string; component: string },
  server: string,
): Promise<NodeCredentialFiles> {
  // The kubeconfig is written last: present means complete.
  if (existsSync(files.kubeconfig)) return files;
  if (!existsSync(pki.caKey)) {
    throw new WeftError('ERR_WEFT_LAB_KUBE_START_FAILED', {
      component: who.component,
      reason: `the lab's cluster CA key ${pki.caKey} is missing (a lab made by an older weft): run \`weft lab down\`, then \`weft lab up\``,
      log: '(none)',
      tail: '(none)',
    });
  }
  await issueClientCertificate(pki, who.subject, files);
  await writeKubeconfig(files.kubeconfig, pki, { user: who.user, files }, server);
  return files;
}
