import { isWeftError } from '../../lib/errors/index.js';
import { adminGet } from '../admin/admin-client.js';
import { findEndpoint } from '../admin/admin-target.js';
import { fail, ok, skip, warn, type CheckResult } from '../kube/check-result.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { agentFindings } from './agent-findings.js';
import { certificateFindings } from './certificate-findings.js';
import type { Analyzer, AnalyzerContext } from './context.js';
import { FINDINGS, type Finding } from './findings.js';
import { policyFindings } from './policy-findings.js';
import { routeFindings } from './route-findings.js';

/**
 * The analyzers of `weft check` (after its health checks): each reads the live state, returns its
 * findings, and gets one check line summing them up. An analyzer that fails (API refused...) is a failed
 * line, the others still run.
 */
export const ANALYZERS: readonly Analyzer[] = [
  { check: 'routes', run: routeFindings },
  { check: 'authorization policies', run: policyFindings },
  { check: 'node agents of captured pods', run: agentFindings },
  { check: 'workload certificates', run: certificateFindings },
];

export interface AnalyzeOptions {
  readonly meshNamespace: string;
  readonly now: Date;
  readonly caExpirySeconds: number;
  readonly certExpirySeconds: number | undefined;
}

/** The context for `client`: admin endpoints are read where the CLI reaches them (a lab). */
export function analyzerContext(client: ClusterClient, o: AnalyzeOptions): AnalyzerContext {
  const admin = client.target.kind === 'lab' ? async (c: Parameters<typeof findEndpoint>[1], path: string) => adminGet(await findEndpoint(client, c, o.meshNamespace), path) : undefined;
  return { client, ...o, admin };
}

export async function analyze(ctx: AnalyzerContext, analyzers: readonly Analyzer[] = ANALYZERS): Promise<{ results: CheckResult[]; findings: Finding[] }> {
  const results: CheckResult[] = [];
  const findings: Finding[] = [];
  for (const { check, run } of analyzers) {
    try {
      const a = await run(ctx);
      findings.push(...a.findings);
      results.push(summary(check, a.examined, a.skipped, a.findings));
    } catch (err) {
      const what = isWeftError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      results.push(fail(check, `could not analyze: ${what}`, isWeftError(err) ? err.hint : 'This looks like a bug in weft check; please report it.'));
    }
  }
  return { results, findings };
}

function summary(check: string, examined: string, skipped: string | undefined, findings: readonly Finding[]): CheckResult {
  if (skipped !== undefined) return skip(check, skipped);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const codes = [...new Set(findings.map((f) => f.code))].map((c) => `${c} ${FINDINGS[c].name}`).join(', ');
  const counted = `${errors > 0 ? `${errors} error(s)` : ''}${errors > 0 && warnings > 0 ? ', ' : ''}${warnings > 0 ? `${warnings} warning(s)` : ''}`;
  if (errors > 0) return fail(check, `${counted} in ${examined} (${codes})`, 'See the findings below.');
  if (warnings > 0) return warn(check, `${counted} in ${examined} (${codes})`, 'See the findings below.');
  return ok(check, `${examined}, no finding`);
}
