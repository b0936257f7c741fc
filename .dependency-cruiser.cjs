/**
 * The import rules of src/ (docs/architecture.md, "What the import check enforces"), run by
 * `npm run check:imports` inside `npm test`. A folder imports only its own files and folders of a
 * LOWER rank; equal ranks do not import each other. A new src folder gets a line in LAYERS.
 */
const LAYERS = [
  // [name, path regex, rank]
  ['errors', '^src/errors\\.ts$', 0],
  ['util', '^src/util/', 0], // helpers of every layer (sleep)
  ['dehb', '^src/dehb/', 1], // the pure optimizer
  ['gpu', '^src/gpu/', 1],
  ['protocol', '^src/protocol/', 2], // the Executor seam, wire types, scheduler file
  ['support', '^src/(unknown-keys|io-errors)\\.ts$', 2], // option-key and file-write error wording
  ['objective', '^src/objective\\.ts$', 3], // what a user's objective module imports
  ['redis', '^src/redis/', 3], // adapter: the only folder that imports bullmq/ioredis
  ['cluster', '^src/cluster/', 4], // executors and the worker runtime
  ['study', '^src/study/', 5], // journal backends, replay, study storage (and today the Study API)
  ['driver', '^src/driver/', 6], // the run loop
  ['api', '^src/api/', 7], // the DEHB class
  ['report', '^src/report/', 7.5], // dehb report / dashboard (reads journals; may use api)
  ['cli', '^src/cli/', 8], // composition root
  ['index', '^src/index\\.ts$', 8], // the public API
];

const layerRules = LAYERS.map(([name, path, rank]) => {
  const notAllowed = LAYERS.filter(([other, , r]) => other !== name && r >= rank).map(([, p]) => p);
  const allowed = LAYERS.filter(([, , r]) => r < rank).map(([n]) => n);
  return {
    name: `layer-${name}`,
    severity: 'error',
    comment: `src/${name} may import only ${allowed.length ? allowed.join(', ') : 'nothing else in src'} (folders below it)`,
    from: { path },
    to: { path: notAllowed },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles between modules',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'dehb-is-pure',
      severity: 'error',
      comment: 'src/dehb imports only its own files and src/errors.ts: no node:*, no third-party runtime',
      from: { path: '^src/dehb/' },
      to: { pathNot: ['^src/dehb/', '^src/errors\\.ts$'] },
    },
    {
      name: 'driver-knows-no-backend',
      severity: 'error',
      comment: 'src/driver knows the optimizer and the Executor interface (src/protocol), never a concrete backend',
      from: { path: '^src/driver/' },
      to: { path: ['^src/cluster/', '^src/redis/'] },
    },
    {
      name: 'thread-entry-not-imported',
      severity: 'error',
      comment: 'the worker-thread entry file is loaded by piscina by path, never imported or re-exported (its types may be)',
      from: {},
      to: { path: '^src/cluster/local/thread-worker\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'redis-only-in-adapter',
      severity: 'error',
      comment: 'bullmq and ioredis are imported from src/redis/ only (the Redis adapter folder)',
      from: { pathNot: '^src/redis/' },
      to: { path: '(^|/)node_modules/(bullmq|ioredis)/' },
    },
    {
      name: 'piscina-only-in-local',
      severity: 'error',
      comment: 'piscina is imported from src/cluster/local/ only',
      from: { pathNot: '^src/cluster/local/' },
      to: { path: '(^|/)node_modules/piscina/' },
    },
    {
      name: 'zod-loaded-lazily',
      severity: 'error',
      comment: 'zod is loaded by src/protocol/zod.ts when a schema is first used; modules import its types only (import type)',
      from: {},
      to: { path: '(^|/)node_modules/zod/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'every import resolves',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-folder-has-a-layer',
      severity: 'error',
      comment: 'every src module belongs to a layer: add its folder to LAYERS in .dependency-cruiser.cjs',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default', 'types'] },
  },
};
