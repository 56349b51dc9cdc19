/**
 * `npm run bench`: measures the commands against a plain script doing the same HTTP work, in the same
 * run, against the DHIS2 emulator running in its own process (so its CPU and memory are not ours).
 * Prints the median wall time of each, their ratio, and the peak RSS of our process.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, ROOT, run, startEmulatorProcess } from './harness.ts';

const PROGRAM = 'Lt6P15ps7f6'; // WHO TB Case Surveillance: the largest fixture program
const PORT = 18000 + Math.floor(Math.random() * 1000);
const URL_ = `http://127.0.0.1:${PORT}`;
const CREDS = { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district' };

/**
 * The WHO TB package carries expressions DHIS2 calls invalid, already on the server: the dry run of the
 * unchanged export passes (fail-on: new); with fail-on: all the checks would fail it, and only that.
 */
const checksFailOnly = (code: number | null, out: string) =>
  code === 0 || (code === 1 && out.includes('dry run failed: the checks found'));

const stop = await startEmulatorProcess('test/emulator/main.ts', PORT);
const ws = mkdtempSync(join(tmpdir(), 'bench-'));
try {
  writeFileSync(join(ws, 'dhis2-metadata.yml'), `target: another-server\nprograms:\n  - id: ${PROGRAM}\n`);
  const env = { ...CREDS, DHIS2_SERVER_URL: URL_ };
  const results: Awaited<ReturnType<typeof compare>>[] = [
    await compare(
      `export ${PROGRAM}`,
      () => {
        // Measure the full path: with the file in place and unchanged, export would skip the write.
        rmSync(join(ws, 'metadata'), { recursive: true, force: true });
        return run([join(ROOT, 'dist/cli.js'), 'export'], env, ws);
      },
      () => run([join(ROOT, 'bench/plain-export.mjs'), URL_, PROGRAM, join(ws, 'plain.json')], env, ws),
    ),
  ];
  // The dry run of a change to the same program: one data element renamed in the file the export wrote.
  await run([join(ROOT, 'dist/cli.js'), 'export'], env, ws);
  const file = join(ws, `metadata/${PROGRAM}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { dataElements: { id: string; name: string }[] };
  const element = doc.dataElements[0];
  if (!element) throw new Error('no data element to change');
  element.name = `${element.name} (renamed)`;
  writeFileSync(file, JSON.stringify(doc, null, 2));
  results.push(
    await compare(
      `dry-run ${PROGRAM} (one data element renamed)`,
      () => run([join(ROOT, 'dist/cli.js'), 'dry-run'], env, ws, checksFailOnly),
      () => run([join(ROOT, 'bench/plain-dry-run.mjs'), URL_, PROGRAM, file, 'dataElements', element.id], env, ws),
    ),
  );
  // check: no server at all; against the same plain dry run, for scale (the checks are all its work).
  results.push(
    await compare(
      `check ${PROGRAM}`,
      () => run([join(ROOT, 'dist/cli.js'), 'check'], env, ws, (code) => code === 0 || code === 1),
      () => run([join(ROOT, 'bench/plain-dry-run.mjs'), URL_, PROGRAM, file, 'dataElements', element.id], env, ws),
    ),
  );
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(join(ROOT, '.tmp/bench.json'), JSON.stringify(results, null, 2));
} finally {
  stop();
  rmSync(ws, { recursive: true, force: true });
}
