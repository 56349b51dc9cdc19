// Bundles the action (dist/index.js) and the CLI (dist/cli.js) into self-contained ESM: `node dist/index.js`
// must run in a checkout with no node_modules (GitHub runs it that way). @actions/artifact is most of the
// dependency weight and only needed for uploads, so it is bundled once into dist/artifact.js and loaded on
// demand by both entries. File names are fixed, so a rebuild diffs line by line.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outdir: 'dist',
  loader: { '.yml': 'text' },
  legalComments: 'linked',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

const artifactOnDemand = {
  name: 'artifact-on-demand',
  setup(b) {
    b.onResolve({ filter: /^@actions\/artifact$/ }, () => ({ path: './artifact.js', external: true }));
  },
};

await build({ ...common, entryPoints: { index: 'src/main.ts', cli: 'src/cli.ts' }, plugins: [artifactOnDemand] });
await build({
  ...common,
  stdin: { contents: "export { DefaultArtifactClient } from '@actions/artifact';", resolveDir: '.', loader: 'js' },
  outfile: 'dist/artifact.js',
  outdir: undefined,
});
