import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs module shared with the build script
import { portableVite } from './scripts/portable.mjs';

export default defineConfig({
  plugins: [portableVite],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
