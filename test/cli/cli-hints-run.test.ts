// Failure: hints and docs printed commands that do not run: `--lab` where lab commands took `--name`, a
// literal `{name}`, a `weft config dump` that does not exist, `weft lab delete -f` without its file, and a
// Helm hint blaming --set for a missing -f file. Pins: every `weft ...` command in an error hint, in the
// CLI's own output strings and in the docs' shell blocks parses with the CLI's yargs definition (strict:
// unknown commands and flags fail), and every `kubectl`/`helm` command there uses flags those tools have.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHints } from '../../lab/demo.js';
import { codes } from '../../lib/errors/index.js';
import { describeRequiring } from '../support/root.js';
import { ROOT } from './cli-bundle.js';
import { TOOLS, fillPlaceholders, shellWords, toolRefuses, weftArgs, weftRefuses } from './weft-command.js';

interface Printed {
  where: string;
  command: string;
}

function backticked(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p, ext);
    return p.endsWith(ext) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Commands in hints of the error table, with their parameters filled as the CLI would. */
function hintCommands(): Printed[] {
  return Object.entries(codes).flatMap(([code, spec]) => backticked(spec.hint).map((command) => ({ where: `hint of ${code}`, command })));
}

/**
 * Commands the CLI prints: backticked spans inside the string literals of cli/ and lab/ (comments are not
 * string literals), the `.example(...)` commands of the yargs builders, and the demo's hints.
 */
function cliOutputCommands(): Printed[] {
  const out: Printed[] = [];
  for (const file of [...filesUnder(join(ROOT, 'cli'), '.ts'), ...filesUnder(join(ROOT, 'lab'), '.ts')]) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = relative(ROOT, file);
    const visit = (node: ts.Node): void => {
      let text: string | undefined;
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
      else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((s) => `x${s.literal.text}`).join('');
      if (text !== undefined) {
        const call = node.parent;
        const isExample = ts.isCallExpression(call) && call.arguments[0] === node && ts.isPropertyAccessExpression(call.expression) && call.expression.name.text === 'example';
        if (isExample) out.push({ where: `${where} (.example)`, command: text });
        for (const span of backticked(text)) out.push({ where, command: span });
        return; // a template's spans were filled above
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
  }
  for (const lab of ['lab', 't']) {
    for (const line of demoHints(lab).split('\n')) if (/^\s*weft /.test(line)) out.push({ where: `demoHints(${lab})`, command: line.trim() });
  }
  return out;
}

/** Command lines of the shell blocks of a Markdown file: continuations joined, heredoc bodies skipped. */
function docCommands(file: string): Printed[] {
  const out: Printed[] = [];
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  let inShell = false;
  let inFence = false;
  let heredoc: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (/^```/.test(line)) {
      inFence = !inFence;
      inShell = inFence && /^```(sh|bash|shell|console)\s*$/.test(line);
      continue;
    }
    if (!inShell) continue;
    if (heredoc !== undefined) {
      if (line.trim() === heredoc) heredoc = undefined;
      continue;
    }
    const at = i + 1;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i].trim()}`;
    const here = /<<-?\s*'?(\w+)'?/.exec(line);
    if (here) heredoc = here[1];
    out.push({ where: `${file}:${at}`, command: line.trim() });
  }
  return out;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

async function refusedWeft(printed: readonly Printed[]): Promise<string[]> {
  const bad: string[] = [];
  for (const p of printed) {
    const args = weftArgs(p.command);
    if (args === undefined) continue;
    const why = await weftRefuses(args);
    if (why !== undefined) bad.push(`${p.where}: \`${p.command}\` → ${why}`);
  }
  return bad;
}

const weftCount = (printed: readonly Printed[]): number => printed.filter((p) => weftArgs(p.command) !== undefined).length;

describe('every printed weft command runs as printed', () => {
  it('in the hints of the error table', async () => {
    const printed = hintCommands();
    expect(weftCount(printed)).toBeGreaterThan(10);
    expect(await refusedWeft(printed)).toEqual([]);
    // A hint's {param} is filled from the message's parameters; one the message lacks would print as is.
    const unfilled = Object.entries(codes).flatMap(([code, spec]) =>
      [...spec.hint.matchAll(/\{(\w+)\}/g)].filter((m) => !spec.message.includes(`{${m[1]}}`)).map((m) => `${code}: {${m[1]}}`),
    );
    expect(unfilled).toEqual([]);
    // `weft config dump` never existed; it hid behind a backtick around `weft` alone.
    expect(Object.entries(codes).filter(([, spec]) => /config dump/.test(spec.hint)).map(([code]) => code)).toEqual([]);
  });

  it('in the output strings of the CLI', async () => {
    const printed = cliOutputCommands();
    expect(weftCount(printed)).toBeGreaterThan(15);
    expect(await refusedWeft(printed)).toEqual([]);
  });

  it('in the shell blocks of README.md and docs/', async () => {
    const printed = DOCS.flatMap(docCommands);
    expect(weftCount(printed)).toBeGreaterThan(15);
    expect(await refusedWeft(printed)).toEqual([]);
  });

  it('the checker itself refuses what weft refuses', async () => {
    for (const line of ['weft lab up --name', 'weft check --bogus', 'weft config dump', 'weft lab delete -f', 'weft waypoint apply --name Bad_Name', 'weft namespace enable']) {
      expect(await weftRefuses(weftArgs(line) ?? []), line).toBeDefined();
    }
  });
});

describeRequiring(existsSync(join(TOOLS, 'kubectl')) && existsSync(join(TOOLS, 'helm')), `${TOOLS}/kubectl and helm are missing: run scripts/install-tools`, 'WEFT_TEST_SKIP_TOOLS', 'every printed kubectl and helm command uses flags that exist', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'weft-t-hints-tools-'));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  async function refusedTools(printed: readonly Printed[]): Promise<string[]> {
    const bad: string[] = [];
    for (const p of printed) {
      const words = shellWords(fillPlaceholders(p.command));
      if (words[0] !== 'kubectl' && words[0] !== 'helm') continue;
      const why = await toolRefuses(words, home);
      if (why !== undefined) bad.push(`${p.where}: \`${p.command}\` → ${why}`);
    }
    return bad;
  }

  it('in docs/install.md, docs/rotation.md, README.md and the hints', async () => {
    const printed = [...docCommands('docs/install.md'), ...docCommands('docs/rotation.md'), ...docCommands('README.md'), ...hintCommands(), ...cliOutputCommands()];
    expect(printed.filter((p) => /^(kubectl|helm) /.test(p.command)).length).toBeGreaterThan(8);
    expect(await refusedTools(printed)).toEqual([]);
    expect(await refusedTools([{ where: 'self-check', command: 'helm install weft ./helm/weft --no-such-flag' }])).toHaveLength(1);
  }, 120_000);
});
