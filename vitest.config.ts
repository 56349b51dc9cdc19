import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// Import .yml files as text, as esbuild does in the bundle (scripts/build.mjs).
const yamlAsText: Plugin = {
  name: 'yaml-as-text',
  transform(_code, id) {
    if (!id.endsWith('.yml')) return null;
    return { code: `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`, map: null };
  },
};

export default defineConfig({
  plugins: [yamlAsText],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
