// The baseline for a dry run of a change to some programs: for each program given (all of the config's for a
// dry run of the whole config, which must compare every program with the server: the restore after the merge
// imports whatever differs, drift included), read its file and the program from the server (the GETs of
// bench/plain-export.mjs: dependency export, program sections, legend sets), keep the objects of the file that
// differ from the server's (comparing the keys the file has, at every depth; arrays as unordered), and POST only
// those with importMode=VALIDATE (nothing when none differs). 4 programs at a time, as our dry run; each program
// dropped after its turn. No plan, no checks, no report: what a hand-written script would do.
// Usage: plain-scale-dry-run.mjs <baseUrl> <metadataDir> <programId>...
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, postMetadata, readProgram } from './plain-http.mjs';

const CONCURRENCY = 4;
const [, , baseUrl, dir, ...programIds] = process.argv;

/** JSON with sorted keys and arrays as multisets: equal data, equal text. */
const norm = (v) =>
  Array.isArray(v)
    ? `[${v.map(norm).sort().join(',')}]`
    : isObj(v)
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${norm(v[k])}`)
          .join(',')}}`
      : JSON.stringify(v);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The server's value cut to the keys the file has, at every depth (the file leaves out dates, sharing...). */
function project(server, file) {
  if (Array.isArray(server) && Array.isArray(file)) {
    const byId = new Map(file.filter((x) => isObj(x) && x.id).map((x) => [x.id, x]));
    const keys = [...new Set(file.flatMap((x) => (isObj(x) ? Object.keys(x) : [])))];
    return server.map((x) =>
      isObj(x) ? project(x, byId.get(x.id) ?? Object.fromEntries(keys.map((k) => [k, x[k]]))) : x,
    );
  }
  if (isObj(server) && isObj(file))
    return Object.fromEntries(Object.keys(file).map((k) => [k, project(server[k], file[k])]));
  return server;
}

async function dryRun(programId) {
  const file = JSON.parse(readFileSync(join(dir, `${programId}.json`), 'utf8'));
  const server = await readProgram(baseUrl, programId);
  const payload = {};
  let changed = 0;
  for (const [collection, objects] of Object.entries(file)) {
    if (!Array.isArray(objects)) continue;
    const current = new Map((Array.isArray(server[collection]) ? server[collection] : []).map((o) => [o.id, o]));
    for (const o of objects) {
      const s = current.get(o.id);
      if (s && norm(o) === norm(project(s, o))) continue;
      (payload[collection] ??= []).push(o);
      changed++;
    }
  }
  if (changed === 0) {
    console.log(`${programId}: 0 changed objects; nothing to send`);
    return;
  }
  const { status, stats } = await postMetadata(baseUrl, payload, 'VALIDATE');
  console.log(`${programId}: ${changed} changed objects; ${status} ${JSON.stringify(stats)}`);
  if (status !== 'OK') process.exitCode = 1;
}

await get(baseUrl, 'system/info');
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < programIds.length) await dryRun(programIds[next++]);
  }),
);
