// Failure: package.json named the package `weft`, an unrelated package on npm, and docs/install.md
// suggested `npx weft`: run outside a checkout, that fetches and runs someone else's code. Pins: the
// package is the scoped @weft-mesh/weft (binary still `weft`), the lock file agrees, the CLI finds its own
// package root by that name, and no doc, hint or NOTES line suggests `npx weft`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PACKAGE_NAME, clientVersion, packageRoot } from '../../lib/package-root.js';
import { codes } from '../../lib/errors/index.js';
import { ROOT } from './cli-bundle.js';

const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;

it('the package is @weft-mesh/weft with the binary weft', () => {
  expect(PACKAGE_NAME).toBe('@weft-mesh/weft');
  const pkg = json('package.json');
  expect(pkg.name).toBe(PACKAGE_NAME);
  expect(Object.keys(pkg.bin as object)).toEqual(['weft']);
  const lock = json('package-lock.json') as { name: string; packages: Record<string, { name?: string }> };
  expect(lock.name).toBe(PACKAGE_NAME);
  expect(lock.packages['']?.name).toBe(PACKAGE_NAME);
});

it('the CLI finds its package root and version by that name', () => {
  expect(packageRoot(join(ROOT, 'lib'))).toBe(ROOT);
  expect(clientVersion()).toBe(json('package.json').version);
});

it('nothing suggests `npx weft`', () => {
  const texts: [string, string][] = [
    ['README.md', readFileSync(join(ROOT, 'README.md'), 'utf8')],
    ...readdirSync(join(ROOT, 'docs')).map((f): [string, string] => [`docs/${f}`, readFileSync(join(ROOT, 'docs', f), 'utf8')]),
    ['NOTES.txt', readFileSync(join(ROOT, 'helm', 'weft', 'templates', 'NOTES.txt'), 'utf8')],
    ...Object.entries(codes).map(([code, spec]): [string, string] => [code, spec.hint]),
  ];
  expect(texts.filter(([, text]) => /npx weft\b/.test(text)).map(([where]) => where)).toEqual([]);
});
