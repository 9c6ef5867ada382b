// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow and domain code is replayed deterministically inside Temporal's sandbox: no Node built-ins,
// no I/O libraries, nothing but pure logic and @temporalio/workflow.
const forbiddenInPureCode = {
  paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
  patterns: [
    { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Pure code must not do I/O.' },
    { group: ['@anthropic-ai/sdk', '@anthropic-ai/sdk/*'], message: 'API calls belong in activities.' },
    { group: ['**/activities/*', '**/activities', '**/store/*', '**/emulator/*', '**/cli/*'], message: 'Workflows and domain code only import pure modules (import types with `import type`).', allowTypeImports: true },
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
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', forbiddenInPureCode] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
