import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Boundaries between the parts, checked on every import, tests included. Each entry is a
// gitignore-style pattern on the import path. A test obeys its part's boundaries (a checker test
// imports nothing from the lab either) and may import its own part's internals; what it needs from
// elsewhere (a running cluster, a browser, synthetic runs) comes through test-support/, the one
// door, which itself may import anything. Tests may do I/O (temp dirs, child processes).
const TESTS = ['**/*.test.ts', '**/test/**'];
const PRODUCTION = ['server', 'client', 'checker', 'chaos', 'cli', 'sim', 'proto', 'shared'];
const IO_MODULES = ['node:*', 'fs', 'net', 'timers', 'child_process', 'os', 'dgram'];
const outside = (...folders) => folders.map((folder) => `**/${folder}/**`);
const filesOf = (...folders) => folders.map((folder) => `${folder}/**/*.ts`);

/** The parts above the Raft core and the state machine: the core never depends on them. */
const ABOVE_THE_CORE = [
  ...outside('driver', 'transport', 'storage', 'node', 'sim', 'cli', 'chaos', 'client', 'checker'),
  '**/server/server.js',
  '**/server/requests.js',
  '**/server/local-cluster.js',
];

// What users run (dist/) never depends on test code, so the build can leave it all out.
const NO_TEST_CODE = {
  group: ['**/test-support/**', '**/test/**'],
  message: 'Production code imports no test helpers: dist/ holds only what users run.',
};
// A test folder's helpers belong to its part: `./x.js` and a sibling `../test/x.js` are the part's
// own, anything farther away is another part's and comes through test-support/ instead.
const NO_FOREIGN_TEST_HELPERS = {
  group: ['**/test/**', '!./**', '!../test/**'],
  message: "A test gets another part's cluster, browser or fixtures from test-support/.",
};

/** One boundary in two configs: production code (with the I/O rule) and the part's tests. */
function restrictImports(folders, patterns, { io } = {}) {
  const files = filesOf(...folders);
  const rule = (groups) => ({ 'no-restricted-imports': ['error', { patterns: groups }] });
  const production = { files, ignores: TESTS, rules: rule([...(io ? [io] : []), ...patterns, NO_TEST_CODE]) };
  const testFiles = folders.flatMap((folder) => [`${folder}/**/*.test.ts`, `${folder}/**/test/**/*.ts`]);
  const tests = { files: testFiles, rules: rule([...patterns, NO_FOREIGN_TEST_HELPERS]) };
  return [production, tests];
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
  // Every part first; the narrower rules below replace these options for their own files.
  {
    files: filesOf(...PRODUCTION),
    ignores: TESTS,
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_TEST_CODE] }] },
  },
  { files: TESTS, rules: { 'no-restricted-imports': ['error', { patterns: [NO_FOREIGN_TEST_HELPERS] }] } },
  ...restrictImports(
    ['server/raft', 'server/kv'],
    [{ group: ABOVE_THE_CORE, message: 'The Raft core and the state machine import nothing built on them.' }],
    { io: { group: IO_MODULES, message: 'The Raft core and the state machine do no I/O.' } },
  ),
  ...restrictImports(
    ['server/node'],
    [
      {
        group: outside('driver', 'transport', 'storage', 'sim', 'cli', 'chaos', 'client', 'checker'),
        message: 'The node shell imports only the core, the state machine and plain helpers.',
      },
    ],
    {
      io: {
        group: IO_MODULES,
        message: 'The node shell does no I/O: its host passes disk, network and clock in.',
      },
    },
  ),
  ...restrictImports(
    ['checker'],
    [
      {
        group: outside('chaos', 'client', 'server', 'sim', 'cli'),
        message: 'The checker reads histories only.',
      },
    ],
  ),
  ...restrictImports(
    ['client'],
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
