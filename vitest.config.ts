import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on loopback; two files at a time suits the 2-core machines.
    maxWorkers: 2,
    // PORTICO_TEST_BACKEND=postgres: one PostgreSQL cluster for the run (tests/helpers/backend.ts).
    globalSetup: ['tests/helpers/pg-global-setup.ts'],
  },
});
