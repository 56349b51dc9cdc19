/**
 * `npm run bench` (restore): a one-field change restored on a program with 3,000 options (WHO TB grown,
 * test/helpers/many-options.ts) against DHIS2 2.43.1 as the emulator speaks it, in its own process. Ours:
 * `dist/cli.js restore` (lock, plan against the server, VALIDATE, rollback point, async COMMIT,
 * verification); plain: bench/plain-restore.mjs (GET the program export, POST the changed option). Each run
 * renames the option anew, so every run has exactly one change to apply.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TB_PROGRAM } from '../test/helpers/many-options.ts';
import { compare, ROOT, run, startEmulatorProcess } from './harness.ts';

const PORT = 19000 + Math.floor(Math.random() * 1000);
const URL_ = `http://127.0.0.1:${PORT}`;
const OPTION = 'FACILITY_01234';
const env = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district', DHIS2_SERVER_URL: URL_ };

const stop = await startEmulatorProcess('bench/emulator-many-options.ts', PORT);
const ws = mkdtempSync(join(tmpdir(), 'bench-restore-'));
try {
  writeFileSync(join(ws, 'dhis2-metadata.yml'), `target: another-server\nprograms:\n  - id: ${TB_PROGRAM}\n`);
  await run([join(ROOT, 'dist/cli.js'), 'export'], env, ws);
  const file = join(ws, `metadata/${TB_PROGRAM}.json`);
  const original = readFileSync(file, 'utf8');
  let n = 0;
  const result = await compare(
    `restore one field of ${TB_PROGRAM} (3,000 options)`,
    () => {
      const doc = JSON.parse(original) as { options: { code?: string; name?: string }[] };
      const option = doc.options.find((o) => o.code === OPTION);
      if (!option) throw new Error(`no option ${OPTION}`);
      option.name = `Facility 01234 (ours ${++n})`;
      writeFileSync(file, JSON.stringify(doc, null, 2));
      return run([join(ROOT, 'dist/cli.js'), 'restore'], env, ws);
    },
    () =>
      run([join(ROOT, 'bench/plain-restore.mjs'), URL_, TB_PROGRAM, OPTION, `Facility 01234 (plain ${++n})`], env, ws),
  );
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(join(ROOT, '.tmp/bench-restore.json'), JSON.stringify(result, null, 2));
} finally {
  stop();
  rmSync(ws, { recursive: true, force: true });
}
