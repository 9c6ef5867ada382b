// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// What crosses the activity boundary is declared in src/contracts; only the worker wires the activities themselves.
const noActivityImports = {
  group: ['**/activities', '**/activities/*', '!**/contracts/activities'],
  message: 'Import activity inputs and outputs from src/contracts/activities (only src/worker.ts and the plugin build the activities).',
};

// Workflow and domain code is replayed deterministically inside Temporal's sandbox: no Node built-ins,
// no I/O libraries, nothing but pure logic and @temporalio/workflow.
const forbiddenInPureCode = {
  paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
  patterns: [
    { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Pure code must not do I/O.' },
    { group: ['@anthropic-ai/sdk', '@anthropic-ai/sdk/*'], message: 'API calls belong in activities.' },
    { group: ['**/store/*', '**/emulator/*', '**/cli/*'], message: 'Workflows and domain code only import pure modules (import types with `import type`).', allowTypeImports: true },
    noActivityImports,
  ],
};

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', 'examples/**', 'eslint.config.mjs', 'bin/**', 'scripts/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Layers import downwards only: a cycle means two modules are one idea, or a contract sits in the wrong place.
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/activities/**', 'src/worker.ts', 'src/plugin/**', 'src/contracts/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noActivityImports] }] },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', forbiddenInPureCode] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
