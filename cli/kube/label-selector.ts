/**
 * Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated), for the lab client,
 * which has no API server to filter for it. Set-based selectors are not used by the CLI.
 */
export type LabelMatcher = (labels: Readonly<Record<string, string>> | undefined) => boolean;

export function parseLabelSelector(selector: string | undefined): LabelMatcher {
  const terms = (selector ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((term): LabelMatcher => {
      const ne = term.indexOf('!=');
      if (ne > 0) {
        const [k, v] = [term.slice(0, ne).trim(), term.slice(ne + 2).trim()];
        return (l) => l?.[k] !== v;
      }
      const eq = term.indexOf('=');
      if (eq > 0) {
        const k = term.slice(0, eq).trim();
        const v = term.slice(term[eq + 1] === '=' ? eq + 2 : eq + 1).trim();
        return (l) => l?.[k] === v;
      }
      if (term.startsWith('!')) {
        const k = term.slice(1).trim();
        return (l) => l?.[k] === undefined;
      }
      return (l) => l?.[term] !== undefined;
    });
  return (labels) => terms.every((t) => t(labels));
}
