// Pins the shipped artifact: `npm run build:cni` (scripts/build-cni.mjs) bundles the plugin without the
// heavy libraries (zod, pino) that would slow every pod start, and the bundle and the Node
// single-executable built from it behave as the plugin: VERSION, ADD through the agent, a CNI error.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble } from './agent-double.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

const BUILD = fileURLToPath(new URL('../../scripts/build-cni.mjs', import.meta.url));

describe('weft-cni bundle and single executable', () => {
  let out: string;
  let agent: AgentDouble;
  beforeAll(async () => {
    out = tempDir('sea');
    agent = await startAgentDouble();
    // ~100 MB copy of node plus postject: slow on a shared machine, hence the long hook timeout.
    execFileSync(process.execPath, [BUILD, '--out', out], { stdio: 'pipe' });
  }, 180_000);
  afterAll(async () => {
    await agent.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('the bundle is small and carries no zod or pino', () => {
    const bundle = readFileSync(join(out, 'weft-cni.cjs'), 'utf8');
    expect(bundle.length).toBeLessThan(200_000);
    expect(bundle).not.toMatch(/zod|pino|ZodError/);
    expect(bundle).toContain('ERR_WEFT_CNI_AGENT_UNREACHABLE');
  });

  for (const form of ['bundle', 'single executable'] as const) {
    const run = (env: Record<string, string>, stdin: string) =>
      form === 'bundle' ? runPlugin(env, stdin, { bin: join(out, 'weft-cni.cjs') }) : runPlugin(env, stdin, { bin: join(out, 'weft-cni'), exe: true });

    it(`${form}: VERSION, ADD and an error behave as the plugin`, async () => {
      const version = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
      expect(version.exitCode, version.stderr).toBe(0);
      expect(JSON.parse(version.stdout)).toMatchObject({ cniVersion: '1.0.0' });
      const add = await run(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })));
      expect(add.exitCode, add.stderr).toBe(0);
      expect(JSON.parse(add.stdout)).toEqual(BRIDGE_RESULT);
      expect(agent.requests.at(-1)?.body.podName).toBe('web-7d4f9');
      expect(cniError(await run(podEnv('ADD'), '{')).code).toBe(6);
    });
  }

  it('the single executable is a runnable file', () => {
    expect(statSync(join(out, 'weft-cni')).mode & 0o111).not.toBe(0);
  });
});
