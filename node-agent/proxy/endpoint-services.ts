import type { Service, StateView } from '../../lib/model/index.js';

/**
 * The Service a destination pod serves on a port (its `destination_service` label at the destination
 * agent, which sees only the pod's address): the first Service with the pod as an endpoint and that
 * target port. Indexed once per state change, lazily; a connection costs a map read.
 */
export class EndpointServices {
  private generation = -1;
  private byUid = new Map<string, Service[]>();

  constructor(private readonly view: StateView) {}

  of(workloadUid: string, port: number): Service | undefined {
    if (this.view.generation !== this.generation) this.rebuild();
    const list = this.byUid.get(workloadUid);
    if (list === undefined) return undefined;
    for (const s of list) for (const p of s.ports) if (p.targetPort === port) return s;
    return undefined;
  }

  private rebuild(): void {
    this.generation = this.view.generation;
    this.byUid = new Map();
    for (const s of this.view.services()) {
      for (const e of s.endpoints) {
        const list = this.byUid.get(e.workloadUid);
        if (list === undefined) this.byUid.set(e.workloadUid, [s]);
        else if (!list.includes(s)) list.push(s);
      }
    }
  }
}
