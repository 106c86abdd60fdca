// Istio's value patterns for AuthorizationPolicy fields: `*` (anything), `prefix*`, `*suffix`, or an
// exact value. A list compiles once into sets and arrays, so a request compares without allocating.

export class GlobSet {
  private readonly any: boolean;
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  private readonly suffixes: readonly string[];

  constructor(patterns: readonly string[]) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    let any = false;
    for (const p of patterns) {
      if (p === '*') any = true;
      else if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
      else if (p.startsWith('*')) suffixes.push(p.slice(1));
      else exact.add(p);
    }
    this.any = any;
    this.exact = exact;
    this.prefixes = prefixes;
    this.suffixes = suffixes;
  }

  /** True when some pattern matches; an absent value matches nothing, not even `*`. */
  matches(value: string | undefined): boolean {
    if (value === undefined) return false;
    if (this.any || this.exact.has(value)) return true;
    for (const p of this.prefixes) if (value.startsWith(p)) return true;
    for (const s of this.suffixes) if (value.endsWith(s)) return true;
    return false;
  }
}
