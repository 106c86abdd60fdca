import type { CommandModule } from 'yargs';
import { labCommand } from './lab.js';
import { installModule } from './install.js';
import { checkModule } from './check.js';
import { namespaceModule } from './namespace.js';
import { waypointModule } from './waypoint.js';
import { versionModule } from './version.js';
import { hboneDemoModule } from './hbone-demo.js';
import { getModule } from './get.js';
import { explainModule } from './explain.js';
import { statModule } from './stat.js';
import { edgesModule } from './edges.js';
import { tapModule } from './tap.js';
import { topModule } from './top.js';
import { dashboardModule } from './dashboard.js';

// One file per subcommand under cli/commands/; register each here, one line each.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [labCommand, installModule, checkModule, namespaceModule, waypointModule, versionModule, hboneDemoModule, getModule, explainModule, statModule, edgesModule, tapModule, topModule, dashboardModule];
