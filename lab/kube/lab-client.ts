import { KubeConfig } from '@kubernetes/client-node';
import { KubeClusterClient } from '../../lib/kube/kube-cluster.js';
import { WeftError } from '../../lib/errors/index.js';
import type { LabInfo } from '../state.js';

/**
 * The one Kubernetes client the lab's own commands use (`weft lab apply/delete/status`, the demo, `up`'s
 * bootstrap of weft-system, and `weft ... --lab x`): the CLI's client (lib/kube/kube-cluster.ts) with the
 * lab's admin kubeconfig, writing as field manager `weft-lab`. `kubeconfig` defaults to the host's (the
 * loopback forward); a process inside the lab's namespaces passes the in-lab one.
 */
export const LAB_FIELD_MANAGER = 'weft-lab';

export function labKubeConfig(info: LabInfo, kubeconfig?: string): KubeConfig {
  const file = kubeconfig ?? info.kube?.kubeconfig;
  if (file === undefined) throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path: 'kube in lab.json' });
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    // The lab's admin credentials belong to the user that started it (root): said by name, not as EACCES.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new WeftError('ERR_WEFT_CLI_PERMISSION_DENIED', { what: `reading the admin kubeconfig of lab ${info.name}`, path: file, uid: process.getuid?.() ?? -1 }, { cause: err });
    throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path: file }, { cause: err });
  }
  return kc;
}

export function labClient(info: LabInfo, o: { kubeconfig?: string; stateDir?: string } = {}): KubeClusterClient {
  return new KubeClusterClient(labKubeConfig(info, o.kubeconfig), {
    fieldManager: LAB_FIELD_MANAGER,
    target: { kind: 'lab', name: info.name, dir: o.stateDir ?? '' },
  });
}
