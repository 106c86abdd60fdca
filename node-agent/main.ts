#!/usr/bin/env node
// weft-node-agent. Before the agent itself loads (several seconds on a busy node), the pod listeners
// recorded in the state file are re-opened, so that connections arriving during a restart are queued
// by the kernel instead of waiting for a SYN retransmit (enroll/early-listeners.ts); then the agent.
import { DEFAULTS } from './config.js';
import { openEarlyListeners } from './enroll/early-listeners.js';

const args = process.argv.slice(2);
// Not for --help/--version: listeners joining a running agent's SO_REUSEPORT group would take its
// connections and drop them when this short-lived process exits.
if (!args.some((a) => a === '--help' || a === '-h' || a === '--version')) {
  await openEarlyListeners(flagValue(args, 'state-dir') ?? DEFAULTS.stateDir);
}
await import('./agent.js');

/** `--name value` or `--name=value`; undefined when absent. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}
