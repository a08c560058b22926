import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Four tiers, one runner: unit (pure code beside the sources), integration (real PostgreSQL and
// Redis through Nest's testing module), e2e (the built service as real processes, over HTTP), and
// faults (the built service while its dependencies fail).
export default defineConfig({
  // SWC keeps decorator metadata, which Nest's dependency injection needs.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    environment: 'node',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.spec.ts', 'client/src/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          setupFiles: ['test/setup/ledger-invariants.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts', 'test/setup/global-setup.ts'],
          setupFiles: ['test/setup/ledger-invariants.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        // The typed client (client/) against the built service, and the demo page it serves driven
        // in headless Chromium (needs /usr/bin/chromium; CI installs it).
        extends: true,
        test: {
          name: 'client',
          include: ['client/test/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts', 'test/setup/global-setup.ts'],
          setupFiles: ['test/setup/ledger-invariants.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        // Faults (issue 15): real processes, Redis and PostgreSQL of the test's own killed and
        // restarted, slow clients, hostile input. Each test bounds its own time.
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts', 'test/setup/global-setup.ts'],
          setupFiles: ['test/setup/ledger-invariants.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
