// Type-aware lint (typescript-eslint's recommendedTypeChecked: floating and misused promises
// matter in Temporal code), plus the workflow determinism rules: workflow files may not do
// I/O, read clocks or randomness, or import activities at run time.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.switchboard/**', 'bench/results/**', 'dist/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Rejecting with what a callback or an AbortSignal gave (unknown, any) passes it on.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // Off: values typed `any` by JSON.parse and untyped libraries are narrowed where they
      // are used, and an async function without await still returns a promise as its
      // interface says. Calls and arguments of type any stay errors.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Plain JavaScript config files are outside the TypeScript project.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['workflows/**/*.ts'],
    rules: {
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
  // Imports, by depth: a file in workflows/ and one in a folder of it (workflows/call/)
  // reach the same places — workflows/ itself, and types from activities/.
  {
    files: ['workflows/*.ts'],
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
    },
  },
  {
    files: ['workflows/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(?!@temporalio/workflow$|@temporalio/common$|\\./|\\.\\./(?!\\.\\./)|\\.\\./\\.\\./contracts/|\\.\\./\\.\\./activities/).*',
              message:
                'workflows/ may import only @temporalio/workflow, contracts/, its own files and types.',
            },
            {
              group: ['../../activities/*', '../../activities/**'],
              allowTypeImports: true,
              message: 'Import only types from activities (import type).',
            },
          ],
        },
      ],
    },
  },
);
