// The baseline: fetch the same resources as `export` does for one program and write them with
// JSON.stringify. No transform, no canonical order, no retries: what a hand-written script would do.
import { writeFileSync } from 'node:fs';

const [, , baseUrl, programId, outFile] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const get = async (path) => {
  const r = await fetch(`${baseUrl}/api/${path}`, { headers: { Authorization: auth, Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
};
await get('system/info');
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
writeFileSync(outFile, JSON.stringify({ ...doc, programSections: sections.programSections, legendSets }, null, 2));
