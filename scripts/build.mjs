// Bundles the action (dist/index.js) and the CLI (dist/cli.js) into self-contained ESM files:
// `node dist/index.js` must run in a checkout with no node_modules (GitHub runs it that way).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  loader: { '.yml': 'text' },
  legalComments: 'linked',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

await build({ ...common, entryPoints: { index: 'src/main.ts' }, outdir: 'dist' });
await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
});
