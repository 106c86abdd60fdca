/**
 * Stable codes of `weft check` findings that scripts and docs can key on (`-o json` carries them as `code`).
 * A code names what was found, never how it is worded; docs/install.md ("Check it") lists each with its fix.
 */
export const CHECK_CODES = {
  /** The issuing CA expires before one full leaf lifetime from now: leaves are capped at its expiry. */
  CA_EXPIRES_BEFORE_LEAF_LIFETIME: 'WEFT_CHECK_CA_EXPIRES_BEFORE_LEAF_LIFETIME',
  /** install-cni on a node is in a fight with another writer over the CNI config (it keeps removing weft-cni). */
  CNI_CONTESTED: 'WEFT_CHECK_CNI_CONTESTED',
} as const;

export type CheckCode = (typeof CHECK_CODES)[keyof typeof CHECK_CODES];
