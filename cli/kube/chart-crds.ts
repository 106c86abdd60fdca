import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { WeftError } from '../../lib/errors/index.js';
import type { ClusterClient, KubeObject } from './cluster-client.js';

/**
 * The chart's CRDs (helm/weft/crds/). Helm installs that directory on first install and never again, so
 * an upgrade that changes a CRD's schema would leave the old one serving. `weft install` applies them
 * itself, server-side, before every `helm upgrade --install` (which then skips them); Helm users run
 * `kubectl apply --server-side -f helm/weft/crds/` (docs/install.md).
 */
export async function readChartCrds(chartDir: string): Promise<KubeObject[]> {
  const dir = join(chartDir, 'crds');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
  const crds: KubeObject[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj === null) continue;
      if (doc.errors.length > 0 || obj.kind !== 'CustomResourceDefinition' || typeof obj.metadata?.name !== 'string') {
        throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `chart file ${join(dir, f)} holds something other than a CustomResourceDefinition` });
      }
      crds.push(obj);
    }
  }
  return crds;
}

/** Applies every CRD of the chart (server-side apply, field manager weft); returns their names. */
export async function applyChartCrds(client: ClusterClient, chartDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const crd of await readChartCrds(chartDir)) {
    await client.apply(crd);
    names.push(crd.metadata.name);
  }
  return names;
}
