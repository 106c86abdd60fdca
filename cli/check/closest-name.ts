/**
 * The existing name a misspelled one most likely meant: the nearest by edit distance, when it is near
 * enough to be a typo (at most a third of the name's length, at least 2 edits allowed), else undefined.
 */
export function closestName(wanted: string, existing: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of existing) {
    const d = editDistance(wanted, name);
    if (d <= limit && (best === undefined || d < best.d || (d === best.d && name < best.name))) best = { name, d };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions and substitutions of one character each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}
