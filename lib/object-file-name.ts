/**
 * The file an object is stored in by the directory cluster-state source (control/sources/files.ts) and by the
 * lab that writes that directory (lab/manifests.ts): `<Kind>.<namespace>.<name>.yaml`, or `<Kind>.<name>.yaml`
 * for cluster-scoped kinds. One definition, because both sides must agree on it byte for byte.
 */
export function objectFileName(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind}.${name}.yaml` : `${kind}.${namespace}.${name}.yaml`;
}
