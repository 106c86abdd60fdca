/**
 * Who else writes the CNI config, told from the plugins in it, and the setting that stops it removing
 * chained plugins. Only writers known to fight over the file are named; anyone else is left unnamed
 * rather than guessed (the status file and `weft check` then say "another writer").
 */
export interface OtherWriter {
  /** The product, as its users call it. */
  readonly name: string;
  /** What to change so that it keeps weft-cni chained. */
  readonly setting: string;
}

const KNOWN: readonly { readonly pluginType: string; readonly writer: OtherWriter }[] = [
  // cilium-agent rewrites its conflist (and renames foreign ones) while cni.exclusive=true, its default.
  { pluginType: 'cilium-cni', writer: { name: 'Cilium', setting: 'cni.exclusive=false (Cilium Helm value)' } },
];

/** The known writer whose plugin the config holds, or undefined (unknown writer, or text that is not a config). */
export function otherWriterOf(configText: string): OtherWriter | undefined {
  let types: string[];
  try {
    const doc = JSON.parse(configText) as { type?: unknown; plugins?: { type?: unknown }[] };
    types = [doc.type, ...(Array.isArray(doc.plugins) ? doc.plugins.map((p) => p?.type) : [])].filter((t): t is string => typeof t === 'string');
  } catch {
    return undefined;
  }
  return KNOWN.find((k) => types.includes(k.pluginType))?.writer;
}
