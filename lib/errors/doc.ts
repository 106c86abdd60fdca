import { codes } from './codes.js';
import type { ErrorSpec } from './spec.js';

/** Renders docs/errors.md from the error table; `npm run gen:errors-doc` writes it, a test compares. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error weft reports carries a stable `code`; match on it, never on the message. This page is',
    'generated from `lib/errors/codes/*.ts` by `npm run gen:errors-doc`; a test fails when they differ.',
    '',
    '| Code | Message | How to solve | HTTP | gRPC | CNI | Flag |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [code, s] of Object.entries(codes) as [string, ErrorSpec][]) {
    lines.push(`| \`${code}\` | ${tableCell(s.message)} | ${tableCell(s.hint)} | ${s.http ?? ''} | ${s.grpc ?? ''} | ${s.cni ?? ''} | ${s.flag ?? ''} |`);
  }
  return lines.join('\n') + '\n';
}

/** Text as one cell of a Markdown table (also docs/check.md's). */
export function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
