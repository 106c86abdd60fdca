#!/usr/bin/env node
// Start-up cost matters here (`weft --help`, shell completion, scripts): only yargs and the command
// definitions load now; each command imports its heavy modules (lab runtime, x509, Kubernetes client)
// inside its handler. The modules that use @peculiar/x509 import reflect-metadata themselves.
import { hideBin } from 'yargs/helpers';
import { buildCli } from './cli.js';
import { exitWithError } from './exit.js';
import { endQuietlyOnClosedPipe } from './pipe.js';

// Exit codes: 0 success, 1 a check or command failed, 2 bad usage or missing privileges.
endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);
await buildCli(hideBin(process.argv)).parseAsync().catch(exitWithError);
