// Pins that the error table holds only codes the product raises: each code must appear, as an exact string
// literal, in product source in a place that produces it (a `new WeftError(...)` argument, a mapping table,
// a ternary), not only where one is tested (`=== 'ERR_…'`, `hasCode(x, 'ERR_…')`, a Set of codes to match).
// The C CNI plugin (cni/native/*.c) counts where a code is a complete C string literal, and
// scripts/install-tools where its `fail` function is called with it.
// A code nothing raises is documented in docs/errors.md for nothing: raise it or remove it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { codes } from '../../lib/errors/index.js';

const ROOT = new URL('../../', import.meta.url).pathname;
// The product: what tsconfig.build.json compiles, without the table itself and the benchmarks.
const PRODUCT_DIRS = ['lib', 'api', 'cli', 'cni', 'control', 'node-agent', 'waypoint', 'lab'];
const TABLE_DIR = join(ROOT, 'lib', 'errors');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'build' && p !== TABLE_DIR) out.push(...sourceFiles(p));
    } else if ((e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) || e.name.endsWith('.c')) out.push(p);
  }
  return out;
}

/** True when the literal is only compared or matched against, not produced. */
function onlyMatched(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    return op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsToken;
  }
  if (ts.isCaseClause(parent)) return true;
  if (ts.isCallExpression(parent) && ts.isIdentifier(parent.expression) && parent.expression.text === 'hasCode') return true;
  // new Set(['ERR_…', …]): a set of codes to match against.
  if (ts.isArrayLiteralExpression(parent) && ts.isNewExpression(parent.parent) && ts.isIdentifier(parent.parent.expression) && parent.parent.expression.text === 'Set') return true;
  return false;
}

function raisedCodes(): Map<string, string> {
  const known = new Set(Object.keys(codes));
  const raised = new Map<string, string>();
  for (const file of PRODUCT_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('ERR_WEFT_')) continue;
    if (file.endsWith('.c')) {
      // The C CNI plugin: a code counts as raised where it is a complete C string literal.
      for (const m of text.matchAll(/"(ERR_WEFT_[A-Z0-9_]+)"/g)) if (known.has(m[1]) && !raised.has(m[1])) raised.set(m[1], file.slice(ROOT.length));
      continue;
    }
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && known.has(node.text) && !onlyMatched(node)) {
        if (!raised.has(node.text)) raised.set(node.text, file.slice(ROOT.length));
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  // scripts/install-tools (shell) raises its codes through its `fail CODE message hint status` function.
  for (const m of readFileSync(join(ROOT, 'scripts', 'install-tools'), 'utf8').matchAll(/\bfail (ERR_WEFT_[A-Z0-9_]+)\b/g)) {
    if (known.has(m[1]) && !raised.has(m[1])) raised.set(m[1], 'scripts/install-tools');
  }
  return raised;
}

describe('error table: every code is raised', () => {
  it('each ERR_WEFT_* code appears where product code produces it', () => {
    const raised = raisedCodes();
    const never = Object.keys(codes).filter((c) => !raised.has(c));
    expect(never, 'codes nothing raises: raise them, or remove them and run `npm run build:ts && npm run gen:errors-doc`').toEqual([]);
  });

  it('the scan is exact: a code only compared against does not count', () => {
    const sf = ts.createSourceFile('x.ts', "if (e.code === 'ERR_WEFT_CORE_TIMEOUT') x(); new WeftError('ERR_WEFT_CORE_INTERNAL');", ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) && !onlyMatched(node)) found.push(node.text);
      ts.forEachChild(node, visit);
    };
    visit(sf);
    expect(found).toEqual(['ERR_WEFT_CORE_INTERNAL']);
  });
});
