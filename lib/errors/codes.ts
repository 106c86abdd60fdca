import { coreCodes } from './codes/core.js';
import { controlSourcesCodes } from './codes/control-sources.js';
import { controlCodes } from './codes/control.js';
import { cniCodes } from './codes/cni.js';
import { waypointCodes } from './codes/waypoint.js';
import { identityCodes } from './codes/identity.js';
import { labCodes } from './codes/lab.js';
import { agentCodes } from './codes/agent.js';
import { cliCodes } from './codes/cli.js';
import { hboneCodes } from './codes/hbone.js';
import { adminCodes } from './codes/admin.js';
import { prometheusQueryCodes } from './codes/prometheus-query.js';
import { dashboardCodes } from './codes/dashboard.js';

/**
 * The one table of weft's error codes. Add an area by creating `codes/<area>.ts` and spreading it here;
 * `docs/errors.md` is generated from this table (`npm run gen:errors-doc`) and a test keeps them equal.
 */
export const codes = {
  ...coreCodes,
  ...controlSourcesCodes,
  ...controlCodes,
  ...cniCodes,
  ...waypointCodes,
  ...identityCodes,
  ...labCodes,
  ...agentCodes,
  ...cliCodes,
  ...hboneCodes,
  ...adminCodes,
  ...prometheusQueryCodes,
  ...dashboardCodes,
} as const;

export type WeftErrorCode = keyof typeof codes;
