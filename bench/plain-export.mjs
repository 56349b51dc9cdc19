// The baseline for export: read the program as export does (bench/plain-http.mjs readProgram) and write it with
// JSON.stringify. No transform, no canonical order, no retries: what a hand-written script would do.
import { writeFileSync } from 'node:fs';
import { get, readProgram } from './plain-http.mjs';

const [, , baseUrl, programId, outFile] = process.argv;
await get(baseUrl, 'system/info');
writeFileSync(outFile, JSON.stringify(await readProgram(baseUrl, programId), null, 2));
