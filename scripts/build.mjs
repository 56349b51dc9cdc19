// Bundles the action (dist/index.js, from src/index.ts) and the CLI (dist/cli.js) into self-contained ESM: `node dist/index.js`
// must run in a checkout with no node_modules (GitHub runs it that way). The two heaviest dependencies are
// only needed by some runs: @actions/artifact (uploads in a runner) and @actions/github (octokit + undici:
// the PR comment and the merged-PR lookup). Each is bundled once into its own file and loaded on demand
// (the sources only import them dynamically), so a run starts by parsing a third of the code. File names
// are fixed, so a rebuild diffs line by line. DHIS2's engines (@dhis2/rule-engine, @dhis2/expression-parser: Kotlin/JS,
// about 1.5 MB each) are on demand too: only `check` (and the checks of `dry-run`) load them.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

// DHIS2_METADATA_BUILD_DIR builds elsewhere (a private build for tests: DHIS2_METADATA_TEST_DIST), never dist/.
const OUT = process.env.DHIS2_METADATA_BUILD_DIR || 'dist';
rmSync(OUT, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outdir: OUT,
  legalComments: 'linked',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

const ON_DEMAND = {
  '@actions/artifact': 'artifact.js',
  '@actions/github': 'github.js',
  '@dhis2/rule-engine': 'rule-engine.js',
  '@dhis2/expression-parser': 'expression-parser.js',
};

const onDemand = {
  name: 'on-demand',
  setup(b) {
    b.onResolve({ filter: /^(@actions\/(artifact|github)|@dhis2\/(rule-engine|expression-parser))$/ }, (args) => ({
      path: `./${ON_DEMAND[args.path]}`,
      external: true,
    }));
  },
};

// Two parts of axios that a DHIS2 client never uses cost every run its start-up time (about 20 ms of the 100 ms
// it takes to load): the fetch adapter, which probes fetch/Request/Response when loaded and so loads Node's
// undici (axios picks its http adapter in Node: lib/adapters/adapters.js), and form-data with mime-db
// (multipart bodies: ours are JSON). Both are replaced by stubs that say so if ever reached. And axios's
// utils read `globalThis.FormData` when loaded, a lazy global in Node that loads undici too (about 16 ms):
// the constructor is left unread, and isFormData still knows a FormData by its tag (kindOf 'formdata').
const axiosUnused = {
  name: 'axios-unused',
  setup(b) {
    b.onResolve({ filter: /^\.\/fetch\.js$/ }, (args) =>
      /axios[\\/]lib[\\/]adapters$/.test(args.resolveDir)
        ? { path: 'axios-fetch', namespace: 'axios-unused' }
        : undefined,
    );
    b.onResolve({ filter: /^form-data$/ }, (args) =>
      /axios[\\/]lib[\\/]platform[\\/]node[\\/]classes$/.test(args.resolveDir)
        ? { path: 'form-data', namespace: 'axios-unused' }
        : undefined,
    );
    b.onLoad({ filter: /axios[\\/]lib[\\/]utils\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const probe = "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;";
      // An axios that no longer has this line fails the build here, rather than loading undici unnoticed.
      if (!source.includes(probe)) throw new Error(`axios-unused: ${args.path} no longer reads FormData as expected`);
      return { contents: source.replace(probe, 'const FormDataCtor = undefined;'), loader: 'js' };
    });
    b.onLoad({ filter: /^axios-fetch$/, namespace: 'axios-unused' }, () => ({
      contents: 'export const getFetch = () => false; export default false;',
      loader: 'js',
    }));
    b.onLoad({ filter: /^form-data$/, namespace: 'axios-unused' }, () => ({
      contents:
        "export default class FormData { constructor() { throw new Error('multipart bodies are not part of this bundle'); } }",
      loader: 'js',
    }));
  },
};

// The checks' worker (src/check/check-worker.ts) sits beside the entry points, which start it from there.
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts', 'check-worker': 'src/check/check-worker.ts' },
  plugins: [onDemand, axiosUnused],
});
// The axios-unused patches hold only while axios is bundled from the files they name: a bundle that still
// reads the FormData global (axios moved or renamed a file) fails the build rather than loading undici unseen.
for (const entry of ['index', 'cli']) {
  const bundle = readFileSync(`${OUT}/${entry}.js`, 'utf8');
  if (/\bG\.FormData\b|typeof FormData\b/.test(bundle)) {
    throw new Error(`axios-unused: ${OUT}/${entry}.js reads the FormData global again (see scripts/build.mjs)`);
  }
}
for (const [pkg, file] of Object.entries(ON_DEMAND)) {
  await build({
    ...common,
    stdin: { contents: `export * from '${pkg}';`, resolveDir: '.', loader: 'js' },
    outfile: `${OUT}/${file}`,
    outdir: undefined,
  });
}
