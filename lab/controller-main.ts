#!/usr/bin/env node
// The lab's controller manager + scheduler process (host namespace; it only reads and writes files).
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/telemetry/log.js';
import { Controller } from './controller.js';
import { labPaths } from './names.js';
import { readLabInfo } from './state.js';

const { values } = parseArgs({ options: { lab: { type: 'string' }, 'state-root': { type: 'string' }, help: { type: 'boolean' } } });
if (values.help || !values.lab) {
  console.log('usage: controller-main --lab <name> [--state-root /var/run/weft-lab]');
  process.exit(values.help ? 0 : 2);
}
const paths = labPaths(values.lab, values['state-root']);
const info = await readLabInfo(paths, values.lab);
const log = createLogger({ name: 'weft-lab-controller' }).child({ component: 'controller' });
const controller = new Controller(paths, info.nodes.map((n) => n.name), log);
await controller.start();
log.info('controller running');
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    controller.close();
    process.exit(0);
  });
}
