// The baseline for a dry run that counts collected data: what a hand-written script would do, the VALIDATE of
// the file and one count of the events holding the removed code (GET /api/tracker/events, pageSize=1).
import { readFileSync } from 'node:fs';

const [, , baseUrl, file, program, stage, dataElement, code] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: 'application/json' };
await fetch(`${baseUrl}/api/system/info`, { headers }).then((r) => r.json());
const r = await fetch(`${baseUrl}/api/metadata?importMode=VALIDATE&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
  method: 'POST',
  headers: { ...headers, 'Content-Type': 'application/json' },
  body: readFileSync(file, 'utf8'),
});
const report = await r.json();
const count = await fetch(
  `${baseUrl}/api/tracker/events?program=${program}&programStage=${stage}&filter=${dataElement}:in:${code}` +
    '&orgUnitMode=ALL&pageSize=1&totalPages=true&fields=event',
  { headers },
).then((res) => res.json());
console.log(JSON.stringify({ stats: (report.response ?? report).stats, records: count.pager.total }));
