// The baseline for restore: GET the program's export and POST the one changed object, as a hand-written
// script would. No plan, no validation, no rollback point, no job, no verification.
const [, , baseUrl, programId, optionCode, newName] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: 'application/json' };
await fetch(`${baseUrl}/api/system/info`, { headers }).then((r) => r.json());
const doc = await fetch(`${baseUrl}/api/programs/${programId}/metadata.json`, { headers }).then((r) => r.json());
const option = doc.options.find((o) => o.code === optionCode);
option.name = newName;
const r = await fetch(`${baseUrl}/api/metadata?importMode=COMMIT&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
  method: 'POST',
  headers: { ...headers, 'Content-Type': 'application/json' },
  body: JSON.stringify({ options: [option] }),
});
const report = await r.json();
if ((report.response ?? report).status !== 'OK') throw new Error(JSON.stringify(report).slice(0, 500));
