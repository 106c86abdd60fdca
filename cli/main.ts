#!/usr/bin/env node
// Start-up cost matters here (`weft --help`, shell completion, scripts): only yargs and the command
// definitions load now; each command imports its heavy modules (lab runtime, x509, Kubernetes client)
// inside its handler. The modules that use @peculiar/x509 import reflect-metadata themselves.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { exitWithError } from './exit.js';

// Exit codes: 0 success, 1 a check or command failed, 2 bad usage or missing privileges.
const cli = yargs(hideBin(process.argv))
  .scriptName('weft')
  .usage('weft <command>\n\nA sidecar-less service mesh for Kubernetes. Try `weft lab up --demo` on one Linux machine.')
  .strict()
  .demandCommand(1, 'Name a command; `weft --help` lists them.')
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version(false)
  .wrap(Math.min(110, process.stdout.columns || 110))
  .fail((msg, err, y) => {
    if (err) exitWithError(err);
    console.error(`${y.help() ? '' : ''}error: ${msg}\n\nRun with --help for usage.`);
    process.exit(2);
  });

// eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- each module types its own args
for (const command of commands) cli.command(command);

await cli.parseAsync();
