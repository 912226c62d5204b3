// Workflow files must stay deterministic: lint forbids I/O modules,
// clocks, randomness and runtime imports from activities inside workflows/.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.switchboard/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(?!@temporalio/workflow$|@temporalio/common$|\\./|\\.\\./contracts/|\\.\\./activities/).*',
              message:
                'workflows/ may import only @temporalio/workflow, contracts/, sibling files and types.',
            },
            {
              group: ['../activities/*', '../activities/**'],
              allowTypeImports: true,
              message: 'Import only types from activities (import type).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process.env in workflows: pass config as input.' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message:
            'No Date.now() in workflows: use new Date() (the SDK makes it replay-safe) or workflowInfo().',
        },
        { object: 'Math', property: 'random', message: 'Use uuid4() or deterministic ids.' },
      ],
    },
  },
);
