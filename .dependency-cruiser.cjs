// Which folder may import which: `npx depcruise --config .dependency-cruiser.cjs .` (a gate of
// `./switchboard test`). Every rule holds on the tree; a new import that breaks one fails the
// run. The layers, bottom up:
//
//   contracts/, audio/   import nothing of ours (contracts: the Temporal SDK's definers only;
//                        audio: Node's own modules only)
//   infra/               the local platform: nothing of ours outside infra/
//   providers/           ports, fallbacks, fakes and vendor adapters: contracts, audio, infra
//   conversation/        answers, knowledge, safety (framework-neutral): the above + providers
//   analytics/           warehouse loading and reports: the above + conversation
//   activities/          Temporal activity factories: everything above
//   workflows/           contracts and @temporalio/workflow; types (import type) from activities/
//   workers/             contracts, audio, infra, activities, workflows
//   media-edge/          contracts, audio, infra, activities, workers (its logging)
//   simulator/           contracts, audio, infra, activities, media-edge
//   scripts/, cli/       anything above (cli also runs bench/)
//   testing/             helpers shared by test/ and bench/: anything but test/, bench/, cli/
//   bench/, test/        anything but each other (bench/ also not test/'s helpers)
//
// No cycles anywhere, type-only imports included.

/** Folders of ours, as the pattern of a path. */
const ours = (...folders) => `^(${folders.join('|')})/`;

/** What runs in production (the CLI aside): no test or benchmark code may reach it. */
const PRODUCT = [
  'contracts',
  'audio',
  'infra',
  'providers',
  'conversation',
  'analytics',
  'activities',
  'workflows',
  'workers',
  'media-edge',
  'simulator',
  'scripts',
];

/** Everything below the Temporal activities: contracts up to the domain code. */
const DOMAIN = ['contracts', 'audio', 'infra', 'providers', 'conversation', 'analytics'];

/** A folder that may import, at run time or as types, only its own files and `allowed`. */
function onlyFrom(name, folder, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: ours(folder) },
    to: { dependencyTypes: ['local'], pathNot: ours(folder, ...allowed) },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    onlyFrom(
      'contracts-import-nothing-of-ours',
      'contracts',
      [],
      'contracts/ is the bottom layer.',
    ),
    {
      name: 'contracts-import-only-the-temporal-sdk',
      comment: 'Message definers (defineUpdate, defineSearchAttributeKey) and nothing else.',
      severity: 'error',
      from: { path: ours('contracts') },
      to: {
        dependencyTypesNot: ['local', 'core'],
        pathNot: '^node_modules/@temporalio/(workflow|common)/',
      },
    },
    onlyFrom('audio-imports-nothing-of-ours', 'audio', [], 'audio/ is the bottom layer.'),
    {
      name: 'audio-imports-only-node',
      comment: 'Pure audio code: Node core modules at most.',
      severity: 'error',
      from: { path: ours('audio') },
      to: { dependencyTypesNot: ['local', 'core'] },
    },
    onlyFrom('infra-imports-only-infra', 'infra', [], 'The platform knows nothing of the app.'),
    onlyFrom(
      'providers-layer',
      'providers',
      ['contracts', 'audio', 'infra'],
      'Providers know nothing of the conversation, analytics or Temporal activities.',
    ),
    onlyFrom(
      'conversation-layer',
      'conversation',
      ['contracts', 'audio', 'infra', 'providers'],
      'Framework-neutral domain code over the providers.',
    ),
    onlyFrom(
      'analytics-layer',
      'analytics',
      ['contracts', 'audio', 'infra', 'providers', 'conversation'],
      'Reports and loading over the providers.',
    ),
    onlyFrom(
      'activities-layer',
      'activities',
      DOMAIN,
      'Activities sit below workflows, workers and the edge.',
    ),
    {
      name: 'workflows-deterministic-imports',
      comment:
        'At run time workflows/ imports only @temporalio/workflow, contracts/ and its own files; ' +
        'anything else only as types (import type), which the bundle leaves out.',
      severity: 'error',
      from: { path: ours('workflows') },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: [ours('workflows', 'contracts'), '^node_modules/@temporalio/workflow/'],
      },
    },
    {
      name: 'workflows-types-only-from-activities',
      comment: 'Besides contracts/, workflows/ may see only the activities’ types.',
      severity: 'error',
      from: { path: ours('workflows') },
      to: { dependencyTypes: ['local'], pathNot: ours('workflows', 'contracts', 'activities') },
    },
    onlyFrom('workers-layer', 'workers', [...DOMAIN, 'activities', 'workflows']),
    onlyFrom('media-edge-layer', 'media-edge', [...DOMAIN, 'activities', 'workers']),
    onlyFrom('simulator-layer', 'simulator', [...DOMAIN, 'activities', 'media-edge']),
    {
      name: 'no-tests-in-the-product',
      comment: 'Test and benchmark code stays out of what runs in production (cli may run bench).',
      severity: 'error',
      from: { path: ours(...PRODUCT, 'cli') },
      to: { path: ours('test', 'testing') },
    },
    {
      name: 'no-bench-in-the-product',
      comment: 'Only the CLI runs benchmarks.',
      severity: 'error',
      from: { path: ours(...PRODUCT) },
      to: { path: ours('bench') },
    },
    {
      name: 'testing-is-below-test-and-bench',
      comment: 'Shared helpers import neither their users nor the CLI.',
      severity: 'error',
      from: { path: ours('testing') },
      to: { path: ours('test', 'bench', 'cli') },
    },
    {
      name: 'bench-and-test-share-only-testing',
      comment: 'What test/ and bench/ both need lives in testing/.',
      severity: 'error',
      from: { path: ours('bench') },
      to: { path: ours('test', 'cli') },
    },
    {
      name: 'test-does-not-import-bench',
      comment: 'What test/ and bench/ both need lives in testing/.',
      severity: 'error',
      from: { path: ours('test') },
      to: { path: ours('bench') },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a moved file leaves no dangling import).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|\\.switchboard)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
