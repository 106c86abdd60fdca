import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { WeftError } from '../../lib/errors/index.js';
import type { ClusterClient, KubeObject } from '../../lib/kube/cluster-client.js';
import { CustomResourceDefinition } from '../../lib/kube/resources.js';

/** Where the chart keeps its CRDs: rendered by templates/crds.yaml, so that `helm upgrade` upgrades them. */
export const CHART_CRD_DIR = join('files', 'crds');

/** The chart's CustomResourceDefinitions (helm/weft/files/crds/). */
export async function readChartCrds(chartDir: string): Promise<KubeObject[]> {
  const dir = join(chartDir, CHART_CRD_DIR);
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

/**
 * The chart's CRDs that exist in the cluster but belong to no Helm release: installed from the chart's
 * former crds/ directory (which Helm never tracks) or applied by an older `weft install` or by hand.
 * Helm refuses to adopt them unless told to (`--take-ownership`), once.
 */
export async function unownedChartCrds(client: ClusterClient, chartDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const crd of await readChartCrds(chartDir)) {
    const live = await client.get({ type: CustomResourceDefinition, name: crd.metadata.name });
    if (live !== undefined && live.metadata.annotations?.['meta.helm.sh/release-name'] === undefined) names.push(crd.metadata.name);
  }
  return names;
}
