import yargs, { type Argv } from 'yargs';
import { WeftError } from '../lib/errors/index.js';
import { commands } from './commands/index.js';
import { asWeftError, exitWithError } from './exit.js';

/**
 * The `weft` command line: every command, strict (unknown commands and flags are usage errors). Errors,
 * yargs' own usage errors included, reach `onError` as WeftErrors: ERR_WEFT_CLI_USAGE for what yargs
 * refused, the command's own error otherwise (a middleware's error rejects `parseAsync` instead). main.ts
 * exits with them; tests parse with their own `onError` to check that a printed command is one this CLI
 * accepts.
 */
export function buildCli(argv: readonly string[], onError: (err: WeftError) => never = exitWithError): Argv {
  const cli = yargs([...argv])
    .scriptName('weft')
    .usage('weft <command>\n\nA sidecar-less service mesh for Kubernetes. Try `weft lab up --demo` on one Linux machine.')
    .strict()
    .demandCommand(1, 'Name a command; `weft --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg: string | null, err: Error | null | undefined) => {
      // yargs reports what it refused as a YError carrying only the message (also for a `coerce` that
      // threw a WeftError): all of those are usage errors. Errors of command handlers keep their code.
      if (!err || err.name === 'YError') onError(new WeftError('ERR_WEFT_CLI_USAGE', { reason: err?.message ?? msg ?? 'bad usage' }));
      else onError(asWeftError(err));
    });
  // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- each module types its own args
  for (const command of commands) cli.command(command);
  return cli;
}
