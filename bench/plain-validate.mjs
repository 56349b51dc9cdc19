// The baseline for dry-run: POST the same payload with importMode=VALIDATE and print the stats. No
// plan, no reads of the current objects, no diff: what a hand-written script would do.
import { readFileSync } from 'node:fs';

const [, , baseUrl, file] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: 'application/json' };
await fetch(`${baseUrl}/api/system/info`, { headers }).then((r) => r.json());
const r = await fetch(`${baseUrl}/api/metadata?importMode=VALIDATE&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
  method: 'POST',
  headers: { ...headers, 'Content-Type': 'application/json' },
  body: readFileSync(file, 'utf8'),
});
const report = await r.json();
console.log(JSON.stringify((report.response ?? report).stats));
