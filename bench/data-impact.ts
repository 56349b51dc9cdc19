/**
 * `npm run bench` (data impact): the dry run of a change that strands collected data (the option TWIN removed
 * from the EPI program's Birth type, used by about a third of 3,003 events) against DHIS2 2.43.1 as the emulator
 * speaks it, in its own process. Ours: `dist/cli.js dry-run --data-impact warn` (plan, VALIDATE, checks, the
 * count); plain: bench/plain-data-impact.mjs (VALIDATE and the one count GET). Also the same dry run of a change
 * that touches no collected data, so the difference is what the counting costs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, ROOT, run, startEmulatorProcess } from './harness.ts';

const PROGRAM = 'SSLpOM0r1U7';
const PORT = 20000 + Math.floor(Math.random() * 1000);
const URL_ = `http://127.0.0.1:${PORT}`;
const env = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district', DHIS2_SERVER_URL: URL_ };
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const stop = await startEmulatorProcess('bench/emulator-tracker-data.ts', PORT);
const ws = mkdtempSync(join(tmpdir(), 'bench-impact-'));
try {
  writeFileSync(join(ws, 'dhis2-metadata.yml'), `target: another-server\nprograms:\n  - id: ${PROGRAM}\n`);
  await run([join(ROOT, 'dist/cli.js'), 'export'], env, ws);
  const file = join(ws, `metadata/${PROGRAM}.json`);
  const original = JSON.parse(readFileSync(file, 'utf8')) as Doc;
  const edited = (edit: (doc: Doc) => void) => {
    const doc = structuredClone(original);
    edit(doc);
    writeFileSync(file, JSON.stringify(doc, null, 2));
  };
  const removeTwin = (doc: Doc) => {
    const set = (doc.optionSets as Doc[]).find((s) => s.id === 'jumQ0TEDlf4')!;
    set.options = (set.options as Doc[]).filter((o) => o.id !== 'FjhEVKfGdT2');
  };
  const rename = (doc: Doc) => ((doc.dataElements as Doc[]).find((d) => d.id === 'LtlzGAPWWo8')!.formName = 'Type');
  const dryRun = () => run([join(ROOT, 'dist/cli.js'), 'dry-run', '--data-impact', 'warn'], env, ws);
  const counted = await compare(
    `dry-run ${PROGRAM}, an option used by collected data removed (the count included)`,
    () => (edited(removeTwin), dryRun()),
    () =>
      run(
        [join(ROOT, 'bench/plain-data-impact.mjs'), URL_, file, PROGRAM, 'RcbCl5ww8XY', 'LtlzGAPWWo8', 'TWIN'],
        env,
        ws,
      ),
  );
  const untouched = await compare(
    `dry-run ${PROGRAM}, the same change counted vs a change touching no data (the count's own cost)`,
    () => (edited(removeTwin), dryRun()),
    () => (edited(rename), dryRun()),
  );
  // How much of that is the server's answer (the emulator filters its events in JavaScript; DHIS2 counts in SQL).
  edited(removeTwin);
  const verbose = spawnSync(
    process.execPath,
    [join(ROOT, 'dist/cli.js'), 'dry-run', '--data-impact', 'warn', '--verbose'],
    {
      cwd: ws,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    },
  );
  const answered = [
    ...`${verbose.stdout}${verbose.stderr}`.matchAll(/GET \S+\/api\/tracker\/\S+ -> \d+ \((\d+) ms\)/g),
  ];
  const serverMs = answered.reduce((n, m) => n + Number(m[1]), 0);
  const added = untouched.oursMs - untouched.plainMs;
  console.log(
    `counting the collected records adds ${added.toFixed(0)} ms to the dry run: ${answered.length} request(s), ` +
      `of which the server's answer ${serverMs} ms, our own work ${(added - serverMs).toFixed(0)} ms`,
  );
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(
    join(ROOT, '.tmp/bench-data-impact.json'),
    JSON.stringify({ counted, untouched, countRequests: answered.length, serverMs }, null, 2),
  );
} finally {
  stop();
  rmSync(ws, { recursive: true, force: true });
}
