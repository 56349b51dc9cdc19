// The baseline for dry-run: the HTTP work a dry run needs, as a hand-written script would do it: read the
// program as export does, then POST the changed object (given by collection and id, taken from the edited
// file) with importMode=VALIDATE and print the stats. No plan, no diff, no checks.
import { readFileSync } from 'node:fs';
import { get, postMetadata, readProgram } from './plain-http.mjs';

const [, , baseUrl, programId, file, collection, id] = process.argv;
await get(baseUrl, 'system/info');
await readProgram(baseUrl, programId);
const changed = JSON.parse(readFileSync(file, 'utf8'))[collection].find((o) => o.id === id);
const { status, stats } = await postMetadata(baseUrl, { [collection]: [changed] }, 'VALIDATE');
if (status !== 'OK') throw new Error(`VALIDATE: ${status}`);
console.log(JSON.stringify(stats));
