// The baseline for exporting many programs: what bench/plain-export.mjs does for one (plain-http.mjs
// readProgram), for each program given,
// 4 programs at a time (the concurrency our export uses), each written with JSON.stringify as soon as it is
// read and then dropped. No transform, no canonical order, no retries.
// Usage: plain-scale-export.mjs <baseUrl> <outDir> <programId>...
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, readProgram } from './plain-http.mjs';

const CONCURRENCY = 4;
const [, , baseUrl, outDir, ...programIds] = process.argv;
async function exportProgram(programId) {
  const out = await readProgram(baseUrl, programId);
  writeFileSync(join(outDir, `${programId}.json`), JSON.stringify(out, null, 2));
}

await get(baseUrl, 'system/info');
mkdirSync(outDir, { recursive: true });
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < programIds.length) await exportProgram(programIds[next++]);
  }),
);
console.log(`exported ${programIds.length} programs to ${outDir}`);
