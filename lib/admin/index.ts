export { answerAdminError, answerReadOnly, notFound, queryParam, queryPort, type ReadOnlyHandler, type ReadOnlyRoutes } from './read-only-routes.js';
export { workloadRows, policyRows, type WorkloadRow, type PolicyRow } from './mesh-views.js';
export type { ExplainWorkload, ExplainEndpoint, ExplainBackend, OutboundExplain, InboundExplain, WaypointExplain } from './explain-contract.js';
