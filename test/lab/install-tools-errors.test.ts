// Pins scripts/install-tools' two refusals in the words of the error table, as the CLI prints a WeftError
// (`error CODE: message` and `hint:`): without Go on PATH it names what it would build and exits 2; when a
// build fails it prints the end of the log and names the binary, its module and version, and the log file,
// and exits 1. The script is shell, so this test is what keeps its text equal to lib/errors/codes/lab.ts.
// It runs the script with a PATH of its own (a directory of links to the few tools it uses, and a `go`
// that fails to build) and its own WEFT_TOOLS_CACHE, so the machine's cache and tools are never touched.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { codes } from '../../lib/errors/index.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'scripts', 'install-tools');
const TOOLS = ['bash', 'dirname', 'cat', 'sha256sum', 'cut', 'awk', 'mkdir', 'flock', 'rm', 'date', 'tail', 'nice', 'mv', 'ln', 'cp', 'basename'];

function fill(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => params[k] ?? `{${k}}`);
}

function which(tool: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (readdirSync(dir).includes(tool)) return join(dir, tool);
  }
  throw new Error(`${tool} not found`);
}

describe('scripts/install-tools refusals', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A PATH directory with the script's tools and, when `go` is given, that script as `go`. */
  function sandbox(go?: string): { bin: string; cache: string } {
    dir = mkdtempSync(join(tmpdir(), 'weft-install-tools-'));
    const bin = join(dir, 'bin');
    const cache = join(dir, 'cache');
    for (const d of [bin, cache]) mkdirSync(d);
    for (const t of TOOLS) symlinkSync(which(t), join(bin, t));
    if (go !== undefined) {
      writeFileSync(join(bin, 'go'), go);
      chmodSync(join(bin, 'go'), 0o755);
    }
    return { bin, cache };
  }

  it('without Go: ERR_WEFT_TOOLS_GO_MISSING with its hint, exit 2', async () => {
    const { bin, cache } = sandbox();
    const r = await run([join(bin, 'bash'), SCRIPT], { allowFailure: true, env: { PATH: bin, WEFT_TOOLS_CACHE: cache } });
    const spec = codes.ERR_WEFT_TOOLS_GO_MISSING;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`install-tools: error ERR_WEFT_TOOLS_GO_MISSING: ${fill(spec.message, { component: 'etcd, the Kubernetes components and helm' })}\n  hint: ${spec.hint}\n`);
  });

  it('a failed build: the log\'s end, then ERR_WEFT_TOOLS_BUILD_FAILED naming the binary, module, version and log, exit 1', async () => {
    // A Go that reports a version and fails every build, writing one line to the build's log.
    const { bin, cache } = sandbox('#!/bin/bash\nif [ "$1 $2" = "env GOVERSION" ]; then echo go9.9.9; exit 0; fi\necho "go: simulated failure of $*"; exit 1\n');
    const r = await run([join(bin, 'bash'), SCRIPT], { allowFailure: true, env: { PATH: bin, WEFT_TOOLS_CACHE: cache } });
    expect(r.code).toBe(1);
    const version = /k8s\.io\/kubernetes (v\S+)/.exec(readFileSync(join(ROOT, 'tools', 'kube', 'go.mod'), 'utf8'))?.[1] ?? '';
    const log = /\(log: (\S+\.log)\)/.exec(r.stderr)?.[1] ?? '';
    expect(log.startsWith(`${cache}/kube-${version}-`), r.stderr).toBe(true);
    expect(readFileSync(log, 'utf8')).toContain('go: simulated failure of build');
    const spec = codes.ERR_WEFT_TOOLS_BUILD_FAILED;
    const refusal = `install-tools: error ERR_WEFT_TOOLS_BUILD_FAILED: ${fill(spec.message, { component: 'kube-apiserver', module: 'kube', version, log })}\n  hint: ${spec.hint}\n`;
    expect(r.stderr.endsWith(refusal), r.stderr).toBe(true);
    // The end of the log comes first, so the cause is on screen.
    expect(r.stderr.indexOf('go: simulated failure of build')).toBeLessThan(r.stderr.indexOf('ERR_WEFT_TOOLS_BUILD_FAILED'));
  });
});

