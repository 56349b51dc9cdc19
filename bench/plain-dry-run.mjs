// The baseline for dry-run: the HTTP work a dry run needs, as a hand-written script would do it: read the
// program as export does (its dependency export, sections and legend sets), then POST the changed object
// (given by collection and id, taken from the edited file) with importMode=VALIDATE and print the stats.
// No plan, no diff, no checks.
import { readFileSync } from 'node:fs';

const [, , baseUrl, programId, file, collection, id] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: 'application/json' };
const get = async (path) => {
  const r = await fetch(`${baseUrl}/api/${path}`, { headers });
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
if (ids.size) await get(`legendSets?filter=id:in:[${[...ids].join(',')}]&fields=:owner&paging=false`);
void sections;
const edited = JSON.parse(readFileSync(file, 'utf8'));
const changed = edited[collection].find((o) => o.id === id);
const r = await fetch(`${baseUrl}/api/metadata?importMode=VALIDATE&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
  method: 'POST',
  headers: { ...headers, 'Content-Type': 'application/json' },
  body: JSON.stringify({ [collection]: [changed] }),
});
const report = await r.json();
if ((report.response ?? report).status !== 'OK') throw new Error(JSON.stringify(report).slice(0, 500));
console.log(JSON.stringify((report.response ?? report).stats));
