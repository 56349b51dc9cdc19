// What the plain baselines share: Basic auth from DHIS2_USERNAME/DHIS2_PASSWORD, a GET of JSON, a metadata
// POST, and reading one program as export does (its dependency export, its sections and the legend sets it
// references: three requests whatever its size). Plain fetch, no retries: what a hand-written script would do.
export const headers = {
  Authorization: `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`,
  Accept: 'application/json',
};

export async function get(baseUrl, path) {
  const r = await fetch(`${baseUrl}/api/${path}`, { headers });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

/** POSTs a metadata payload with importMode `mode`; the import report's response (status, stats). */
export async function postMetadata(baseUrl, payload, mode) {
  const r = await fetch(`${baseUrl}/api/metadata?importMode=${mode}&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  const report = await r.json();
  return report.response ?? report;
}

/** The program as export reads it: the dependency export with its sections and legend sets added. */
export async function readProgram(baseUrl, programId) {
  const [doc, sections] = await Promise.all([
    get(baseUrl, `programs/${programId}/metadata.json`),
    get(baseUrl, `programSections?filter=program.id:eq:${programId}&fields=:owner&paging=false`),
  ]);
  const ids = new Set();
  JSON.stringify(doc, (k, v) => {
    if (k === 'legendSets' && Array.isArray(v)) v.forEach((l) => l && l.id && ids.add(l.id));
    return v;
  });
  const legendSets = ids.size
    ? (await get(baseUrl, `legendSets?filter=id:in:[${[...ids].join(',')}]&fields=:owner&paging=false`)).legendSets
    : [];
  return { ...doc, programSections: sections.programSections, legendSets };
}
