// Lets tsx run the sources directly (npm run emulator, ad-hoc scripts): the presets are imported as
// text, which esbuild (build) and vitest (tests) do through their own loaders.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (!url.endsWith('.yml')) return next(url, context);
  const text = await readFile(new URL(url), 'utf8');
  return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
}`),
);
