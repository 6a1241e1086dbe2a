// Type-aware lint over every TypeScript file (sources, specs, harness, bench), with the
// module boundaries taken from the Nx tags. `npm run lint` runs it with the type and
// format checks; `npm test` runs `npm run lint` first.
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/contracts/src/gen/**', '.nx/**', '.wharf/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { project: ['./tsconfig.typecheck.json', './console/web/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            // A service uses libraries only: never another service's code.
            { sourceTag: 'scope:service', onlyDependOnLibsWithTags: ['scope:lib'] },
            // A library uses libraries only.
            { sourceTag: 'scope:lib', onlyDependOnLibsWithTags: ['scope:lib'] },
            // The console (server, web, CLI) uses libraries only.
            { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:lib'] },
            // Only test code may use the test harness.
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['scope:lib'] },
          ],
        },
      ],
    },
  },
  prettier,
);
