// The baseline for exporting many programs: what bench/plain-export.mjs does for one, for each program given,
// 4 programs at a time (the concurrency our export uses), each written with JSON.stringify as soon as it is
// read and then dropped. No transform, no canonical order, no retries.
// Usage: plain-scale-export.mjs <baseUrl> <outDir> <programId>...
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONCURRENCY = 4;
const [, , baseUrl, outDir, ...programIds] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const get = async (path) => {
  const r = await fetch(`${baseUrl}/api/${path}`, { headers: { Authorization: auth, Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
};

async function exportProgram(programId) {
  const [doc, sections] = await Promise.all([
    get(`programs/${programId}/metadata.json`),
    get(`programSections?filter=program.id:eq:${programId}&fields=:owner&paging=false`),
  ]);
  const ids = new Set();
  JSON.stringify(doc, (k, v) => {
    if (k === 'legendSets' && Array.isArray(v)) v.forEach((l) => l && l.id && ids.add(l.id));
    return v;
  });
  const legendSets = ids.size
    ? (await get(`legendSets?filter=id:in:[${[...ids].join(',')}]&fields=:owner&paging=false`)).legendSets
    : [];
  const out = { ...doc, programSections: sections.programSections, legendSets };
  writeFileSync(join(outDir, `${programId}.json`), JSON.stringify(out, null, 2));
}

await get('system/info');
mkdirSync(outDir, { recursive: true });
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < programIds.length) await exportProgram(programIds[next++]);
  }),
);
console.log(`exported ${programIds.length} programs to ${outDir}`);
