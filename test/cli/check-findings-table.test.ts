// Pins that the finding table of `weft check`, its generated page and the analyzers agree: docs/check.md is
// the rendered table (`npm run build:ts && npm run gen:check-doc` after a change), every code reads
// WEFT-C<3 digits>, and every code is raised by product code outside the table and asserted by a test.
// Failure it guards: a code documented that nothing raises, or raised and never tested.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { renderCheckDoc } from '../../cli/check/doc.js';
import { FINDINGS } from '../../cli/check/findings.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const TABLE = join(ROOT, 'cli', 'check', 'findings.ts');
const THIS = new URL(import.meta.url).pathname;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Codes that appear as a string literal (a whole one) in the files. */
function literalCodes(files: readonly string[]): Set<string> {
  const known = new Set(Object.keys(FINDINGS));
  const found = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('WEFT-C')) continue;
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && known.has(node.text)) found.add(node.text);
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  }
  return found;
}

describe('weft check finding table', () => {
  it('docs/check.md is the generated table (run `npm run build:ts && npm run gen:check-doc`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'check.md'), 'utf8')).toBe(renderCheckDoc());
  });

  it('every code reads WEFT-C<3 digits> and says what it means and what to do', () => {
    for (const [code, spec] of Object.entries(FINDINGS)) {
      expect(code).toMatch(/^WEFT-C\d{3}$/);
      expect(spec.name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(spec.means.length).toBeGreaterThan(20);
      expect(spec.todo.length).toBeGreaterThan(10);
    }
  });

  it('every code is raised by the product (outside the table) and asserted by a test', () => {
    const product = ['cli', 'lib', 'control', 'lab'].flatMap((d) => tsFiles(join(ROOT, d))).filter((f) => f !== TABLE);
    const raised = literalCodes(product);
    expect(Object.keys(FINDINGS).filter((c) => !raised.has(c)), 'codes no analyzer raises').toEqual([]);
    const tested = literalCodes(tsFiles(join(ROOT, 'test')).filter((f) => f !== THIS));
    expect(Object.keys(FINDINGS).filter((c) => !tested.has(c)), 'codes no test asserts').toEqual([]);
  });
});
