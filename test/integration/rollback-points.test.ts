import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryReporter } from '../../src/reporter.ts';
import { execute } from '../../src/run.ts';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { runCli } from '../helpers/run-action.ts';
import { editProgramFile as edit, programsConfig } from '../helpers/program-files.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

/**
 * Rollback points of the CLI: each restore keeps its own (a timestamped folder per run, the programs of a run
 * together), the CLI prints each file and the exact command that restores it, and that command works: `--file`
 * reads a rollback point from the report folder (or a file in the workspace), for one program at a time.
 */
const PROGRAM = 'f1AyMswryyQ'; // TA Tracker_program
const RULES = 'uHi4GZJOD3n'; // TA event program with program rules
const PASSWORD = 'Pw-rollback-5e1-never-printed';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

let emulator: Emulator;
let cleanup: (() => void)[] = [];
beforeEach(async () => {
  emulator = await startEmulator({ users: [{ username: 'deployer', password: PASSWORD }] });
});
afterEach(async () => {
  await emulator.close();
  cleanup.forEach((f) => f());
  cleanup = [];
});

function setup(programs: string[]) {
  const ws = tempWorkspace({
    'dhis2-metadata.yml': programsConfig(programs),
  });
  const reports = mkdtempSync(join(tmpdir(), 'rollback-reports-'));
  cleanup.push(ws.remove, () => rmSync(reports, { recursive: true, force: true }));
  const env = {
    DHIS2_SERVER_URL: emulator.url,
    DHIS2_USERNAME: 'deployer',
    DHIS2_PASSWORD: PASSWORD,
    DHIS2_METADATA_REPORT_DIR: reports,
  };
  const cli = (args: string[]) => runCli(args, { cwd: ws.dir, env });
  return { dir: ws.dir, reports, env, cli };
}

const saved = (stdout: string) =>
  [...stdout.matchAll(/^Program (\w+): rollback point saved as (.+)$/gm)].map((m) => ({ id: m[1], file: m[2] }));

describe('rollback points of the CLI', () => {
  it('each run keeps its own, prints the file and the command, and that command restores it', async () => {
    const { dir, reports, cli } = setup([PROGRAM, RULES]);
    expect((await cli(['export'])).code).toBe(0);
    let deId = '';
    let ruleId = '';
    const original = () => emulator.store.get('dataElements', deId)?.name as string;
    edit(dir, PROGRAM, (doc) => {
      deId = doc.dataElements[0].id;
      doc.dataElements[0].name = 'First restore';
    });
    edit(dir, RULES, (doc) => {
      ruleId = doc.programRules[0].id;
      doc.programRules[0].description = 'First restore';
    });
    const before = original();

    const first = await cli(['restore']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstPoints = saved(first.stdout);
    expect(firstPoints.map((p) => p.id).sort()).toEqual([PROGRAM, RULES].sort());
    // One folder for the run, under <report folder>/rollback/, with a file per program named by its uid.
    const runFolder = dirname(firstPoints[0]!.file!);
    expect(dirname(runFolder)).toBe(join(reports, 'rollback'));
    expect(runFolder).toMatch(/\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{10}$/);
    for (const p of firstPoints) expect(p.file).toBe(join(runFolder, `${p.id}.json`));
    expect(JSON.parse(readFileSync(join(runFolder, `${PROGRAM}.json`), 'utf8')).dataElements).toContainEqual(
      expect.objectContaining({ id: deId, name: before }),
    );

    edit(dir, PROGRAM, (doc) => {
      doc.dataElements[0].name = 'Second restore';
    });
    const second = await cli(['restore', '--programs', PROGRAM]);
    expect(second.code).toBe(0);
    const [point] = saved(second.stdout);
    expect(point?.id).toBe(PROGRAM);
    expect(dirname(point!.file!)).not.toBe(runFolder); // not overwritten: a folder per run
    expect(existsSync(join(runFolder, `${PROGRAM}.json`))).toBe(true);
    const kept = JSON.parse(readFileSync(join(runFolder, `${PROGRAM}.json`), 'utf8')) as Doc;
    expect(kept.dataElements.find((d: Doc) => d.id === deId).name).toBe(before);
    const latest = JSON.parse(readFileSync(point!.file!, 'utf8')) as Doc;
    expect(latest.dataElements.find((d: Doc) => d.id === deId).name).toBe('First restore');
    expect(emulator.store.get('dataElements', deId)?.name).toBe('Second restore');

    // The summary says, in plain text, the exact command; run it as printed.
    const command = second.stdout.split('\n').find((l) => l.trim().startsWith('dhis2-metadata restore'));
    expect(command?.trim()).toBe(
      `dhis2-metadata restore --server-url ${emulator.url} --programs ${PROGRAM} --file ${point!.file}`,
    );
    const back = await cli(command!.trim().split(' ').slice(1));
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(emulator.store.get('dataElements', deId)?.name).toBe('First restore');
    // The first run's point, for the program it did not touch again, restores too.
    const rules = await cli(['restore', '--programs', RULES, '--file', join(runFolder, `${RULES}.json`)]);
    expect(rules.code).toBe(0);
    expect(emulator.store.get('programRules', ruleId)?.description).not.toBe('First restore');
    expect(first.stdout + second.stdout + back.stdout).not.toContain(PASSWORD);
  }, 60_000);

  it('a file in the workspace works for dry-run and restore; the file in the config is left alone', async () => {
    const { dir, cli } = setup([PROGRAM]);
    expect((await cli(['export'])).code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, `metadata/${PROGRAM}.json`), 'utf8')) as Doc;
    const deId = doc.dataElements[0].id as string;
    doc.dataElements[0].name = 'From another file';
    mkdirSync(join(dir, 'old'));
    writeFileSync(join(dir, 'old/tracker.json'), JSON.stringify(doc));
    const dry = await cli(['dry-run', '--file', 'old/tracker.json']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Outputs:[\s\S]*changes: 1/);
    expect(emulator.store.get('dataElements', deId)?.name).not.toBe('From another file');
    const run = await cli(['restore', '--file', 'old/tracker.json']);
    expect(run.code).toBe(0);
    expect(emulator.store.get('dataElements', deId)?.name).toBe('From another file');
  }, 60_000);
});

describe('the file input is refused', () => {
  async function refused(raw: Record<string, string>, programs = [PROGRAM, RULES], prepare?: (r: string) => void) {
    const { dir, reports } = setup(programs);
    prepare?.(reports);
    const reporter = new MemoryReporter();
    const code = await execute(
      { 'server-url': emulator.url, username: 'deployer', password: PASSWORD, ...raw },
      { cwd: dir, env: { DHIS2_METADATA_REPORT_DIR: reports } },
      reporter,
    );
    expect(code).toBe(1);
    return reporter.annotations
      .filter((a) => a.level === 'error')
      .map((a) => a.message)
      .join('\n');
  }

  it('outside the workspace and the rollback folder', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'elsewhere-'));
    cleanup.push(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, 'x.json'), '{}');
    expect(await refused({ command: 'restore', programs: PROGRAM, file: join(outside, 'x.json') })).toMatch(
      /input file must be inside the workspace or a rollback point in .*rollback/,
    );
    expect(await refused({ command: 'restore', programs: PROGRAM, file: '../x.json' })).toMatch(/input file must be/);
  });

  it('for several programs, with backup-id, and for other commands', async () => {
    expect(await refused({ command: 'restore', file: 'x.json' })).toMatch(
      new RegExp(`replaces the file of one program: set programs .*${PROGRAM}, ${RULES}`),
    );
    expect(await refused({ command: 'dry-run', programs: PROGRAM, file: 'x.json', 'backup-id': 'b' })).toMatch(
      /either file or backup-id/,
    );
    expect(await refused({ command: 'export', file: 'x.json' }, [PROGRAM])).toMatch(
      /input file applies to dry-run and restore only/,
    );
  });

  it('a link in the rollback folder that leads out of it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'elsewhere-'));
    cleanup.push(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, `${PROGRAM}.json`), '{}');
    const { dir, reports } = setup([PROGRAM]);
    mkdirSync(join(reports, 'rollback'), { recursive: true });
    symlinkSync(outside, join(reports, 'rollback', 'run'));
    const reporter = new MemoryReporter();
    const code = await execute(
      {
        command: 'restore',
        'server-url': emulator.url,
        username: 'deployer',
        password: PASSWORD,
        file: join(reports, 'rollback', 'run', `${PROGRAM}.json`),
      },
      { cwd: dir, env: { DHIS2_METADATA_REPORT_DIR: reports } },
      reporter,
    );
    expect(code).toBe(1);
    expect(
      reporter.annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.message)
        .join('\n'),
    ).toMatch(/leads outside the rollback folder through a symbolic link/);
  });
});
