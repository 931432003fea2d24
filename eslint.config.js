// Lint: typescript-eslint's recommended rules everywhere, plus the core fence (DESIGN.md
// convention 1): nothing under src/core may import React, Comlink, xterm or Node, or touch DOM globals.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Patterns for package families; bare Node module names go in `paths` so that they match exactly
// (a pattern 'crypto' would also fence core's own ./crypto/ folder).
const fencedPatterns = ['react', 'react-dom', 'react/*', 'comlink', '@xterm/*', 'node:*'];
const fencedNames = ['fs', 'path', 'os', 'crypto', 'zlib'];
const fenceMessage = 'src/core is pure: talk to the platform through a port in src/core/ports.';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.tsbuild', 'test-results', 'playwright-report', 'crates/*/target', 'bench/results.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]", message: 'no focused tests' },
        { selector: "CallExpression[callee.property.name='skip'][callee.object.name=/^(it|test|describe)$/]", message: 'no skipped tests' },
      ],
    },
  },
  {
    files: ['src/node/**', 'src/cli/**', 'bench/**', 'scripts/**', 'e2e/**', 'bin/**', '*.config.*', '**/*.test.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/ui/**', 'workers/**', 'bench/browser/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts', 'src/core/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: fencedNames.map((name) => ({ name, message: fenceMessage })), patterns: [{ group: fencedPatterns, message: fenceMessage }] }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'self', 'location', 'fetch', 'process', 'Buffer', 'require'],
    },
  },
);
