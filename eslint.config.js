import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Boundaries between the parts, checked on every import (tests are exempt: an integration test may
// start a real cluster or a browser). Each entry is a gitignore-style pattern on the import path.
const TESTS = ['**/*.test.ts', '**/test/**'];
const IO_MODULES = ['node:*', 'fs', 'net', 'timers', 'child_process', 'os', 'dgram'];
const outside = (...folders) => folders.map((folder) => `**/${folder}/**`);

/** The parts above the Raft core and the state machine: the core never depends on them. */
const ABOVE_THE_CORE = [
  ...outside('driver', 'transport', 'storage', 'node', 'sim', 'cli', 'chaos', 'client', 'checker'),
  '**/server/server.js',
  '**/server/requests.js',
  '**/server/local-cluster.js',
];

function restrictImports(files, patterns) {
  return {
    files,
    ignores: TESTS,
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

// The Raft core and the state machine are pure and deterministic: no I/O, timers, clocks or global
// randomness, so the simulator can run them from a seed and replay any schedule exactly.
const corePurity = {
  files: ['server/raft/**/*.ts', 'server/kv/**/*.ts'],
  ignores: TESTS,
  rules: {
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

// The node shell is synchronous and I/O-free too: the server's driver and the simulator's host
// pass its disk, network and clock in.
const shellPurity = {
  ...corePurity,
  files: ['server/node/**/*.ts'],
  rules: {
    ...corePurity.rules,
    'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'process', 'performance'],
  },
};

const boundaries = [
  restrictImports(
    ['server/raft/**/*.ts', 'server/kv/**/*.ts'],
    [
      { group: IO_MODULES, message: 'The Raft core and the state machine do no I/O.' },
      { group: ABOVE_THE_CORE, message: 'The Raft core and the state machine import nothing built on them.' },
    ],
  ),
  restrictImports(
    ['server/node/**/*.ts'],
    [
      {
        group: IO_MODULES,
        message: 'The node shell does no I/O: its host passes disk, network and clock in.',
      },
      {
        group: outside('driver', 'transport', 'storage', 'sim', 'cli', 'chaos', 'client', 'checker'),
        message: 'The node shell imports only the core, the state machine and plain helpers.',
      },
    ],
  ),
  restrictImports(
    ['checker/**/*.ts'],
    [
      {
        group: outside('chaos', 'client', 'server', 'sim', 'cli'),
        message: 'The checker reads histories only.',
      },
    ],
  ),
  restrictImports(
    ['client/**/*.ts'],
    [
      {
        group: outside('server', 'chaos', 'sim', 'cli'),
        message: 'The client speaks the wire protocol only.',
      },
    ],
  ),
];

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
  corePurity,
  shellPurity,
  ...boundaries,
);
