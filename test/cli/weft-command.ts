/**
 * Checks that a `weft ...` command printed somewhere (an error hint, CLI output, docs, NOTES.txt) is one
 * this CLI accepts: it is parsed with the CLI's own yargs definition (strict: unknown commands and flags,
 * missing arguments, values outside their choices and invalid names are refused), and stopped before any
 * handler runs. Placeholders a reader fills in (`<ns>`, `{name}`, `...`) become a valid sample name.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { buildCli } from '../../cli/cli.js';
import { isWeftError } from '../../lib/errors/index.js';

class Accepted extends Error {}

/** undefined when weft accepts `args`, else why it refused them. */
export async function weftRefuses(args: readonly string[]): Promise<string | undefined> {
  const cli = buildCli(args, (err) => {
    throw err;
  })
    .exitProcess(false)
    .middleware(() => {
      throw new Accepted();
    }, false);
  try {
    await cli.parseAsync();
    return undefined; // --help and the like: yargs printed and returned
  } catch (err) {
    if (err instanceof Accepted || (isWeftError(err) && err.cause instanceof Accepted)) return undefined;
    return isWeftError(err) ? `${err.code}: ${err.message}` : String(err);
  }
}

/**
 * Shell words of one command line, up to what the shell would hand to another program or ignore: a pipe,
 * a redirection, a heredoc, `&&`, `;` or a comment.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unbalanced quote in: ${line}`);
      cur += line.slice(i + 1, end);
      has = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if ((c === '#' && !has) || c === '|' || c === '>' || c === '<' || c === ';' || (c === '&' && line[i + 1] === '&')) {
      break;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/** A placeholder a reader replaces (`<ns>`, `<component|ns/pod>`, `{name}`, `...`) becomes `x`, a valid name for any argument. */
export function fillPlaceholders(line: string): string {
  return line.replace(/<[a-z][^<>\s]*>/gi, 'x').replace(/\{\w+\}/g, 'x').replace(/(^|\s)(\.\.\.|…)(?=\s|$)/g, '$1x');
}

/**
 * The weft arguments of a printed command (`weft ...`, `sudo weft ...`, `node dist/cli/main.js ...`), or
 * undefined when the line does not run weft.
 */
export function weftArgs(line: string): string[] | undefined {
  const words = shellWords(fillPlaceholders(line.replace(/\\\n\s*/g, ' ')));
  let i = 0;
  if (words[i] === 'sudo') i++;
  if (words[i] === 'weft') i++;
  else if (words[i] === 'node' && words[i + 1] === 'dist/cli/main.js') i += 2;
  else return undefined;
  // `weft` alone names the program (as in "`weft` is `node dist/cli/main.js`"); a command has arguments.
  return i === words.length ? undefined : words.slice(i);
}

/** Where scripts/install-tools puts kubectl and helm. */
export const TOOLS = join(import.meta.dirname, '..', '..', '.tools', 'bin');

/**
 * undefined when `kubectl`/`helm` accepts every flag of `words` (the printed command, program first), else
 * its error. cobra parses every flag before it honours --help, so an unknown flag fails while nothing is
 * run, fetched or contacted. `home` holds the tools' state (Helm's homes, a kubeconfig that is not there).
 */
export function toolRefuses(words: readonly string[], home: string): Promise<string | undefined> {
  const env = { PATH: process.env.PATH, HOME: home, KUBECONFIG: join(home, 'none'), HELM_CACHE_HOME: join(home, 'c'), HELM_CONFIG_HOME: join(home, 'cf'), HELM_DATA_HOME: join(home, 'd') };
  return new Promise((resolve) => {
    execFile(join(TOOLS, words[0]), [...words.slice(1), '--help'], { env, timeout: 60_000 }, (err, _out, stderr) => resolve(err === null ? undefined : stderr.trim() || err.message));
  });
}
