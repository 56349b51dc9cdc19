// The baseline for restore: the HTTP work a restore of one changed object needs, as a hand-written script
// would do it: GET the program's export, POST the changed option with importMode=VALIDATE, then COMMIT, then
// read the imported object back. No plan, no rollback point, no lock, no job, no report.
import { get, postMetadata } from './plain-http.mjs';

const [, , baseUrl, programId, optionCode, newName] = process.argv;
await get(baseUrl, 'system/info');
const doc = await get(baseUrl, `programs/${programId}/metadata.json`);
const option = doc.options.find((o) => o.code === optionCode);
option.name = newName;
for (const mode of ['VALIDATE', 'COMMIT']) {
  const { status } = await postMetadata(baseUrl, { options: [option] }, mode);
  if (status !== 'OK') throw new Error(`${mode}: ${status}`);
}
const back = await get(baseUrl, `options/${option.id}?fields=:owner`);
if (back.name !== newName) throw new Error(`read back ${back.name}, not ${newName}`);
