// Failure: `weft install -f missing.yaml` ran Helm, whose "open missing.yaml: no such file" came back as
// ERR_WEFT_CLI_HELM_FAILED (exit 1) with a hint blaming a mistyped --set key. Pins: a values file that does
// not exist is a usage error (exit 2) naming it, found before Helm runs; the Helm hint names both --set and
// -f as where a refused key comes from.
import { expect, it } from 'vitest';
import { installCommand } from '../../cli/commands/install.js';
import { reportError } from '../../cli/output.js';
import { codes, hasCode } from '../../lib/errors/index.js';
import { CHART } from '../helm/chart.js';
import { capture } from './cluster-fixture.js';

it('a missing -f file is ERR_WEFT_CLI_USAGE naming it, exit 2, before Helm runs', async () => {
  const opts = { namespace: 'weft-system', release: 'weft', chart: CHART, set: [], values: ['/nonexistent/my-values.yaml'], dryRun: true, wait: false, timeout: 60 };
  // A helm that cannot run: reaching it would be ERR_WEFT_CLI_HELM_FAILED.
  const err = await installCommand(opts, capture().printer, '/nonexistent/helm').catch((e: unknown) => e);
  expect(hasCode(err, 'ERR_WEFT_CLI_USAGE')).toBe(true);
  expect((err as Error).message).toContain('/nonexistent/my-values.yaml');
  expect(reportError(capture().printer, err)).toBe(2);
});

it('the Helm failure hint does not blame --set alone', () => {
  expect(codes.ERR_WEFT_CLI_HELM_FAILED.hint).toMatch(/-f/);
});
