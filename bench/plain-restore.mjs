// The baseline for restore: the HTTP work a restore of one changed object needs, as a hand-written script
// would do it: GET the program's export, POST the changed option with importMode=VALIDATE, then COMMIT, then
// read the imported object back. No plan, no rollback point, no lock, no job, no report.
const [, , baseUrl, programId, optionCode, newName] = process.argv;
const auth = `Basic ${Buffer.from(`${process.env.DHIS2_USERNAME}:${process.env.DHIS2_PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: 'application/json' };
await fetch(`${baseUrl}/api/system/info`, { headers }).then((r) => r.json());
const doc = await fetch(`${baseUrl}/api/programs/${programId}/metadata.json`, { headers }).then((r) => r.json());
const option = doc.options.find((o) => o.code === optionCode);
option.name = newName;
const post = async (mode) => {
  const r = await fetch(`${baseUrl}/api/metadata?importMode=${mode}&importStrategy=CREATE_AND_UPDATE&atomicMode=ALL`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ options: [option] }),
  });
  const report = await r.json();
  if ((report.response ?? report).status !== 'OK') throw new Error(JSON.stringify(report).slice(0, 500));
};
await post('VALIDATE');
await post('COMMIT');
const back = await fetch(`${baseUrl}/api/options/${option.id}?fields=:owner`, { headers }).then((r) => r.json());
if (back.name !== newName) throw new Error(`read back ${back.name}, not ${newName}`);
