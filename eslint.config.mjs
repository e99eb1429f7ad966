// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.data/**', 'sdk/schema.d.ts', 'test/artifacts/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
  },
  {
    rules: {
      // Raw SQL rows and framework hooks are `any` on purpose; the domain is typed.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Jest's `require` of JSON fixtures and lazy modules.
      '@typescript-eslint/no-require-imports': 'off',
      // Decorator metadata is keyed by class constructors (DTOs, controllers): `Function` is that type.
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
);
