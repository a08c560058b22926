// Type-aware lint (as in immich): no floating or misused promises, exhaustive switches, strict
// equality, braces where they matter, and no import cycles.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import { readdirSync } from 'node:fs';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The boundaries of src/ (ARCHITECTURE.md): core knows no feature; shared knows no framework and
// does no I/O; a module uses another through its services, types and events, never through its
// transports (gateways, controllers, processors) or its storage (repositories, stores).
const MODULES = readdirSync(new URL('./src/modules', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const MODULE_INTERNALS = [
  './src/modules/*/**/*.gateway.ts',
  './src/modules/*/**/*.controller.ts',
  './src/modules/*/**/*.processor.ts',
  './src/modules/*/**/*.processors.ts',
  './src/modules/*/**/*.repository.ts',
  './src/modules/*/**/*-store.ts',
];
const BOUNDARIES = [
  { target: './src/core/**', from: './src/modules/**', message: 'core knows no feature module' },
  { target: './src/shared/**', from: ['./src/core/**', './src/modules/**'], message: 'shared is plain code' },
  // Modules below others never import them: users below every module, accounts below the ledger.
  {
    target: './src/modules/users/**',
    from: './src/modules',
    except: ['./users'],
    message: 'users sit below every other module: they call UsersService, never the reverse',
  },
  {
    target: './src/modules/accounts/**',
    from: './src/modules/ledger/**',
    message: 'accounts sit below the ledger: the ledger imports accounts, never the reverse',
  },
  ...MODULES.map((module) => ({
    target: `./src/modules/${module}/**`,
    from: MODULE_INTERNALS,
    except: [`**/src/modules/${module}/**`],
    message: "use the other module's service, not its transport or storage",
  })),
];
/** I/O and framework packages that src/shared must not use. */
const NOT_IN_SHARED = [
  'pg',
  'ioredis',
  'typeorm',
  'bullmq',
  'socket.io',
  'ws',
  'express',
  'node:fs',
  'node:net',
  'node:http',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.bench-*/**',
      'node_modules/**',
      'coverage/**',
      '.data/**',
      'bench/results/**',
      'client/dist/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
      // `interface UserRequestMap extends XRequests {}` is how a module adds to a merged interface.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      'no-console': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: BOUNDARIES }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: NOT_IN_SHARED, patterns: [{ group: ['@nestjs/*'], message: 'shared knows no framework' }] },
      ],
    },
  },
  {
    // Requests are declared in UserRequestMap and registered with @UserRequest (type-checked against
    // it), so the typed client sees every one of them; SubscribeMessage would bypass that.
    files: ['src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@nestjs/websockets',
              importNames: ['SubscribeMessage'],
              message:
                'Use @UserRequest(type) from core/realtime/ws-requests.ts and declare the request in UserRequestMap.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    // Tests read JSON bodies as untyped data; the promise and cycle rules still apply.
    files: ['test/**/*.ts', 'client/test/**/*.ts', 'bench/**', '**/*.spec.ts', 'scripts/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
