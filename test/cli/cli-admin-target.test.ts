// Pins how `weft get` and `weft explain` choose the component they ask (cli/admin/target-options.ts,
// admin-target.ts): `--node` names a node agent, `-n <ns> --waypoint <name>` a waypoint, both at once or
// neither is a usage error (exit 2) saying which flags to give; `--admin host:port` is used as is; the
// source and destination of `weft explain` parse as people write them. Finding the component on an API
// server (a cluster's or a lab's): cli/on-kube/admin-target.ts.
import { describe, expect, it } from 'vitest';
import { directEndpoint } from '../../cli/admin/admin-target.js';
import { componentOf } from '../../cli/admin/target-options.js';
import { buildCli } from '../../cli/cli.js';
import { parseDestination, parseSource } from '../../cli/commands/explain.js';
import type { WeftError } from '../../lib/errors/index.js';

/** Parses argv with the CLI's yargs definition; resolves with the usage error, if any (handlers never run). */
async function usageError(argv: string[]): Promise<WeftError | undefined> {
  let err: WeftError | undefined;
  const cli = buildCli(argv, (e) => {
    err = e;
    throw e;
  });
  try {
    await cli.parseAsync(argv, {}, () => undefined);
  } catch {
    // the usage error, thrown by onError above
  }
  return err;
}

describe('weft get/explain: which component to ask', () => {
  it('--node is a node agent, -n/--waypoint a waypoint, neither a usage error naming both', () => {
    expect(componentOf({ node: 'n1', namespace: 'default' })).toEqual({ kind: 'agent', node: 'n1' });
    expect(componentOf({ waypoint: 'waypoint', namespace: 'ex' })).toEqual({ kind: 'waypoint', namespace: 'ex', name: 'waypoint' });
    let err: unknown;
    try {
      componentOf({ namespace: 'ex' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_WEFT_CLI_USAGE' });
    expect((err as Error).message).toContain('--node <node>');
    expect((err as Error).message).toContain('--waypoint <name>');
  });

  it('--node and --waypoint together, an unknown kind, or a bad name are refused by the parser', async () => {
    expect(await usageError(['get', 'workloads', '--node', 'n1', '--waypoint', 'w'])).toMatchObject({ code: 'ERR_WEFT_CLI_USAGE' });
    expect(await usageError(['get', 'routes', '--node', 'n1'])).toMatchObject({ code: 'ERR_WEFT_CLI_USAGE' });
    expect(await usageError(['get', 'workloads', '--waypoint', 'Bad_Name'])).toMatchObject({ code: 'ERR_WEFT_CLI_USAGE' });
    expect(await usageError(['explain', 'client'])).toMatchObject({ code: 'ERR_WEFT_CLI_USAGE' });
  });

  it('--admin is used as is', () => {
    const ep = directEndpoint({ kind: 'waypoint', namespace: 'ex', name: 'w' }, '127.0.0.1:15000');
    expect(ep).toMatchObject({ label: 'waypoint ex/w', host: '127.0.0.1', port: 15000 });
  });

  it('explain: <pod> or <ns>/<pod>; host, host:port or [v6]:port with 80 by default', () => {
    expect(parseSource('client', 'ex')).toEqual({ namespace: 'ex', name: 'client' });
    expect(parseSource('demo/client', 'ex')).toEqual({ namespace: 'demo', name: 'client' });
    for (const bad of ['', '/client', 'a/b/c']) expect(() => parseSource(bad, 'ex')).toThrow(/not <pod> or <namespace>\/<pod>/);
    expect(parseDestination('web.demo')).toEqual({ host: 'web.demo', port: 80 });
    expect(parseDestination('10.96.0.10:8080')).toEqual({ host: '10.96.0.10', port: 8080 });
    expect(parseDestination('[fd00::1]:443')).toEqual({ host: 'fd00::1', port: 443 });
    for (const bad of ['web:0', 'web:99999', 'web:', ':80']) expect(() => parseDestination(bad)).toThrow(/is not host\[:port\]/);
  });
});
