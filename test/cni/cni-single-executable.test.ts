// Pins the shipped artifact: `npm run build:cni` (scripts/build-cni.mjs) builds weft-cni from
// cni/native with gcc into one self-contained executable (static: no libc or runtime needed on the node)
// that behaves as the plugin: VERSION, ADD through the agent, a CNI error.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDouble, tempDir, type AgentDouble } from './agent-double.js';
import { BRIDGE_RESULT, cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

const BUILD = fileURLToPath(new URL('../../scripts/build-cni.mjs', import.meta.url));

describe('weft-cni executable built by build:cni', () => {
  let out: string;
  let agent: AgentDouble;
  beforeAll(async () => {
    out = tempDir('build');
    agent = await startAgentDouble();
    execFileSync(process.execPath, [BUILD, '--out', out], { stdio: 'pipe' });
  }, 120_000);
  afterAll(async () => {
    await agent.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('leaves one small executable and no build litter', () => {
    expect(readdirSync(out)).toEqual(['weft-cni']);
    const st = statSync(join(out, 'weft-cni'));
    expect(st.mode & 0o111).not.toBe(0);
    expect(st.size).toBeLessThan(4 * 1024 * 1024);
  });

  it('VERSION, ADD and an error behave as the plugin', async () => {
    const bin = join(out, 'weft-cni');
    const version = await runPlugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}', { bin });
    expect(version.exitCode, version.stderr).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ cniVersion: '1.0.0' });
    const add = await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cni_socket: agent.socket })), { bin });
    expect(add.exitCode, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toEqual(BRIDGE_RESULT);
    expect(agent.requests.at(-1)?.body.podName).toBe('web-7d4f9');
    expect(cniError(await runPlugin(podEnv('ADD'), '{', { bin })).code).toBe(6);
  });
});
