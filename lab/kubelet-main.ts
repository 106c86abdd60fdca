#!/usr/bin/env node
// The lab's per-node kubelet process; `weft lab up` starts it inside the node's network namespace with
// `nsenter --net=` (keeping the host's mount namespace, so the pod namespaces it creates are visible).
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/telemetry/log.js';
import { Kubelet } from './kubelet.js';
import { labPaths } from './names.js';
import { readLabInfo } from './state.js';

const { values } = parseArgs({ options: { lab: { type: 'string' }, node: { type: 'string' }, 'state-root': { type: 'string' }, help: { type: 'boolean' } } });
if (values.help || !values.lab || !values.node) {
  console.log('usage: kubelet-main --lab <name> --node <nN> [--state-root /var/run/weft-lab]');
  process.exit(values.help ? 0 : 2);
}
const paths = labPaths(values.lab, values['state-root']);
const info = await readLabInfo(paths, values.lab);
const node = info.nodes.find((n) => n.name === values.node);
if (!node) {
  console.error(`node ${values.node} is not part of lab ${values.lab}`);
  process.exit(2);
}
const log = createLogger({ name: 'weft-lab-kubelet' }).child({ component: 'kubelet', node: node.name });
const kubelet = new Kubelet({ info, node, paths, log });
await kubelet.start();
log.info('kubelet running');
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    kubelet.close();
    process.exit(0);
  });
}
