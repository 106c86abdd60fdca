// The install-cni fixtures (see fixtures/README.md), read once.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

export const FIXTURES: readonly { name: string; text: string }[] = readdirSync(FIXTURE_DIR)
  .filter((n) => n.endsWith('.conf') || n.endsWith('.conflist'))
  .sort()
  .map((name) => ({ name, text: readFileSync(FIXTURE_DIR + name, 'utf8') }));

export const BROKEN: readonly { name: string; text: string }[] = readdirSync(FIXTURE_DIR + 'broken')
  .sort()
  .map((name) => ({ name, text: readFileSync(`${FIXTURE_DIR}broken/${name}`, 'utf8') }));

/** Single-plugin configs from before chaining (cniVersion 0.1.0, 0.2.0 or none): converted, not refused. */
export const LEGACY: readonly { name: string; text: string }[] = readdirSync(FIXTURE_DIR + 'legacy')
  .sort()
  .map((name) => ({ name, text: readFileSync(`${FIXTURE_DIR}legacy/${name}`, 'utf8') }));
