/**
 * The lab's Service ClusterIP range: the lab's kube-apiserver allocates from it (--service-cluster-ip-range),
 * and the lab's kube-proxy DNATs it.
 */
export const VIP_RANGE = '10.96.0.0/16';
