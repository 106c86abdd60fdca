// docs/architecture.md names the modules of each process. A rename that forgets the page leaves a reader
// hunting for a file that is gone: every file name the page gives must still be a file in the repo.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('docs/architecture.md', () => {
  it('names only files that exist', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const paths = new Set(tracked);
    const names = new Set(tracked.map((p) => basename(p)));
    const page = readFileSync(`${ROOT}docs/architecture.md`, 'utf8');
    // "lib/hbone/server.ts", "capture*.c" (a glob) or a bare "enrollments.ts", written beside its folder.
    // ARCHITECTURE.md is the design notes kept outside the repo, the one name here that is not a repo file.
    const named = [...page.matchAll(/[\w./*-]+\.(?:ts|c|cjs|md)\b/g)]
      .map((m) => m[0])
      .filter((n) => !n.includes('*') && n !== 'ARCHITECTURE.md');
    expect(named.length).toBeGreaterThan(50);
    const missing = named.filter((n) => (n.includes('/') ? !paths.has(n) && !tracked.some((p) => p.endsWith(`/${n}`)) : !names.has(n)));
    expect([...new Set(missing)]).toEqual([]);
  });
});
