import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The Raft core is pure and deterministic (DEVELOPERS.md rule 1): no I/O, timers, clocks or global randomness.
const coreRestrictions = {
  files: ['server/raft/**/*.ts', 'server/kv/**/*.ts'],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: ['node:*', 'fs', 'net', 'timers', 'child_process', 'os', 'dgram'],
            message: 'The Raft core does no I/O.',
          },
        ],
      },
    ],
    'no-restricted-globals': [
      'error',
      { name: 'setTimeout', message: 'Time is ticks in the core.' },
      { name: 'setInterval', message: 'Time is ticks in the core.' },
      { name: 'setImmediate', message: 'Time is ticks in the core.' },
      { name: 'process', message: 'The core is pure.' },
      { name: 'performance', message: 'Time is ticks in the core.' },
    ],
    'no-restricted-properties': [
      'error',
      { object: 'Date', property: 'now', message: 'Time is ticks in the core.' },
      { object: 'Math', property: 'random', message: 'Randomness is a seeded Rng passed in.' },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: 'FunctionDeclaration[async=true]', message: 'The core is synchronous.' },
      { selector: 'ArrowFunctionExpression[async=true]', message: 'The core is synchronous.' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/generated/**', 'histories/**'] },
  { languageOptions: { globals: { ...globals.node } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  coreRestrictions,
);
