import { tableCell } from '../../lib/errors/doc.js';
import { FINDINGS, type FindingSpec } from './findings.js';

/** Renders docs/check.md from the finding table; `npm run gen:check-doc` writes it, a test compares. */
export function renderCheckDoc(): string {
  const lines = [
    '# `weft check` findings',
    '',
    'Besides its health checks, `weft check` analyzes the live state (route and policy status, node agents,',
    'certificates) and reports findings. Each carries a stable `code`: match on it, never on the message.',
    'A finding names the object it is about and what to do; `-o json` gives them as data, and the exit',
    'status is 1 when any has severity `error`. This page is generated from `cli/check/findings.ts` by',
    '`npm run gen:check-doc`; a test fails when they differ.',
    '',
    '| Code | Name | Severity | What it means | What to do |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [code, s] of Object.entries(FINDINGS) as [string, FindingSpec][]) {
    lines.push(`| \`${code}\` | ${s.name} | ${s.severity} | ${tableCell(s.means)} | ${tableCell(s.todo)} |`);
  }
  return lines.join('\n') + '\n';
}

