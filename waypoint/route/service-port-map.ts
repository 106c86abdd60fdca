// A map by (namespace, name, port) without a composite key string. The request path looks up a Service
// port's routes and backend on every request; a `${namespace}/${name}:${port}` key is a new string each
// time, which the Map lookup must flatten and hash (a few % of the waypoint's CPU in bench/waypoint).
// Nested maps hash the parts, whose hashes V8 keeps on the (long-lived) strings themselves.

export class ServicePortMap<V> {
  private readonly byNamespace = new Map<string, Map<string, Map<number, V>>>();

  /** `port` -1 stands for "no port given". */
  get(namespace: string, name: string, port: number): V | undefined {
    return this.byNamespace.get(namespace)?.get(name)?.get(port);
  }

  set(namespace: string, name: string, port: number, value: V): void {
    let names = this.byNamespace.get(namespace);
    if (!names) this.byNamespace.set(namespace, (names = new Map<string, Map<number, V>>()));
    let ports = names.get(name);
    if (!ports) names.set(name, (ports = new Map<number, V>()));
    ports.set(port, value);
  }
}
