// Layering of weft's source (`npm run lint` runs it): lib/ is the shared bottom layer, each process part
// (control, node-agent, waypoint, cni) stands on lib/ alone, and the tools on top (cli, lab, bench) may use
// the parts but never the other way round. No circular imports anywhere.
const PARTS = '^(control|node-agent|waypoint|cni)/';

// The waypoint's request path, top to bottom (docs/architecture.md): a folder may import only the folders
// after it in this list, plus the leaf modules config.ts and metrics.ts. The files directly in waypoint/
// (main, waypoint, mesh, admin, hbone-inbound, tcp-forward) wire the layers together and sit above them.
const WAYPOINT_LAYERS = ['forward', 'downstream', 'route', 'policy', 'retry', 'timeout', 'balance', 'upstream', 'transport', 'h1'];
const waypointLayerRules = WAYPOINT_LAYERS.slice(1).map((layer, i) => ({
  name: `waypoint-${layer}-imports-only-lower-layers`,
  severity: 'error',
  comment: `waypoint/${layer}/ is below ${WAYPOINT_LAYERS.slice(0, i + 1).join(', ')} and the wiring in waypoint/*.ts: pass what it needs in, or move the shared piece down.`,
  from: { path: `^waypoint/${layer}/` },
  to: { path: [`^waypoint/(${WAYPOINT_LAYERS.slice(0, i + 1).join('|')})/`, '^waypoint/[^/]+$'], pathNot: '^waypoint/(config|metrics)\\.ts$' },
}));

// The layers themselves: [rule name, importing path, forbidden import, why]. A process part may import its own
// folder ($1 is the part the importing path matched).
const LAYER_RULES = [
  ['lib-is-the-bottom-layer', '^lib/', { path: '^(control|node-agent|waypoint|cni|cli|lab|bench|test|scripts)/' }, 'lib/ is shared by every process: it may import only lib/ and the generated api/.'],
  ['api-is-generated-leaf', '^api/', { path: '^(lib|control|node-agent|waypoint|cni|cli|lab|bench|test)/' }, 'api/ is generated from the .proto files and imports nothing of weft.'],
  [
    'process-parts-stand-on-lib-alone',
    PARTS,
    { path: [PARTS, '^(cli|lab|bench|test)/'], pathNot: '^$1/' },
    'A process part may not import another (shared code belongs in lib/) nor the tools above it.',
  ],
  ['lab-is-below-the-cli', '^lab/', { path: '^cli/' }, 'The CLI drives the lab; the lab never reaches back up into the CLI.'],
  ['product-never-imports-tests-or-benchmarks', '^(lib|control|node-agent|waypoint|cni|cli|lab)/', { path: '^(test|bench)/' }, 'Tests and benchmarks use the product, never the other way round.'],
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...waypointLayerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes load order matter and layers meaningless: break it by moving the shared piece down.',
      from: {},
      to: { circular: true },
    },
    ...LAYER_RULES.map(([name, from, to, comment]) => ({ name, severity: 'error', comment, from: { path: from }, to })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.tools|coverage)/|/native/build/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
