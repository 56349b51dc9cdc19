/**
 * The whole chain against the emulator speaking as a real DHIS2 2.43.1 (and 2.42.5.2) answers: export, edit
 * one field, dry-run, restore, export again. Only the changed object is sent; updates that 2.42+ refuses at
 * COMMIT (a SENDMESSAGE action with a notification template) fail the dry run; and the async import job's
 * ends (failed, queued behind a stale job, outliving the wait) each give one clear line, never a failed step
 * while the change lands.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.ts';
import { GROWN_OPTION_SET, TB_PROGRAM, tbWithManyOptions } from '../helpers/many-options.ts';
import { runAction, type ActionRun } from '../helpers/run-action.ts';
import { editProgramFile, exportedWorkspace, repairCovacRule } from '../helpers/program-files.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const COVAC = 'yDuAzyqYABS'; // WHO COVID-19 vaccination tracker: a SENDMESSAGE action with a templateUid
const PASSWORD = 'Pw-real-flow-5c1-never-printed';

let emulator: Emulator;
let cleanup: (() => void)[] = [];
afterEach(async () => {
  await emulator?.close();
  cleanup.forEach((f) => f());
  cleanup = [];
});

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({
    version: '2.43.1',
    users: [{ username: 'deployer', password: PASSWORD }],
    ...options,
  });
  // These tests are about the import: the server's COVAC gets its invalid rule condition repaired, so the
  // dry run's checks pass and its gate is the import (the checks are tested in check.test.ts and dry-run.test.ts).
  repairCovacRule(emulator.store);
  return emulator;
}

const creds = () => ({ 'server-url': emulator.url, username: 'deployer', password: PASSWORD });
const run = (dir: string, command: string, extra: Record<string, string> = {}) =>
  runAction({ command, ...creds(), ...extra }, { workspace: dir });

const exported = (program: string) => exportedWorkspace(creds(), [program], cleanup);

const fileOf = (dir: string, program: string) => join(dir, `metadata/${program}.json`);
const read = (dir: string, program: string): Doc => JSON.parse(readFileSync(fileOf(dir, program), 'utf8'));

const edit = (dir: string, program: string, fn: (doc: Doc) => void): Doc => editProgramFile(dir, program, fn).doc;

const metadataPosts = (from: number) =>
  emulator.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/api/metadata');

/** The one ::error:: line of a failed run, and no stack trace anywhere. */
function oneClearError(r: ActionRun): string {
  expect(r.code).toBe(1);
  expect(r.errors).toHaveLength(1);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  return r.errors[0] as string;
}

/** export -> edit -> dry-run -> restore -> export: the server ends as the file says, and only the edit was sent. */
async function roundTrip(
  program: string,
  change: (doc: Doc) => { collection: string; id: string },
  oldProblems = false,
) {
  const dir = await exported(program);
  let changed = { collection: '', id: '' };
  const edited = edit(dir, program, (doc) => (changed = change(doc)));

  const dry = await run(dir, 'dry-run');
  if (!oldProblems) {
    expect(dry.errors).toEqual([]);
    expect(dry.code).toBe(0);
    expect(dry.outputs.status).toBe('OK');
  } else {
    // The published package carries expressions DHIS2 calls invalid, already on the server: reported, not
    // failed on (fail-on: new); the edit brings none, so the gate passes.
    expect(dry.errors).toEqual([]);
    expect(dry.code).toBe(0);
    expect(dry.outputs.errors).toBe('0');
    expect(Number(dry.outputs['errors-existing'])).toBeGreaterThan(0);
  }
  expect(dry.outputs.updated).toBe('1'); // DHIS2's count is now the true impact
  expect(dry.summary).toMatch(/0 new, 1 changed, \d+ unchanged/);

  const from = emulator.requests.length;
  const restored = await run(dir, 'restore');
  expect(restored.errors).toEqual([]);
  expect(restored.code).toBe(0);
  expect(restored.outputs.status).toBe('OK');
  expect(restored.outputs.fingerprint).toBe(dry.outputs.fingerprint);
  const posts = metadataPosts(from);
  expect(posts.map((p) => p.query.importMode)).toEqual(['VALIDATE', 'COMMIT']);
  for (const post of posts) {
    expect(Object.keys(post.body as Doc)).toEqual([changed.collection]);
    expect((post.body as Doc)[changed.collection].map((o: Doc) => o.id)).toEqual([changed.id]);
  }

  const again = await run(dir, 'export');
  expect(again.code).toBe(0);
  const after = read(dir, program);
  // The program's own version may move (DHIS2 bumps it on update); nothing else may.
  for (const d of [after, edited]) for (const p of d.programs) delete p.version;
  expect(after).toEqual(edited);
  return { dir, dry, restored };
}

describe('DHIS2 2.43.1: export, edit one field, dry-run, restore, export again', () => {
  it('a tracker program with a SENDMESSAGE action: only the edited data element is sent', async () => {
    await start();
    await roundTrip(COVAC, (doc) => {
      const de = doc.dataElements[0];
      de.formName = 'Edited by the round trip';
      return { collection: 'dataElements', id: de.id };
    });
  });

  it('a program with 3,000 options: only the edited option is sent', async () => {
    await start({ seed: [tbWithManyOptions(3000)] });
    const { restored } = await roundTrip(
      TB_PROGRAM,
      (doc) => {
        const option = doc.options.find(
          (o: Doc) => o.optionSet?.id === GROWN_OPTION_SET && o.code === 'FACILITY_01234',
        );
        option.name = 'Facility 01234 (renamed)';
        return { collection: 'options', id: option.id };
      },
      true, // the WHO TB package has 59 expressions DHIS2 calls invalid
    );
    expect(restored.summary).toContain('verified');
  });

  it('2.42.5.2 too', async () => {
    await start({ version: '2.42.5.2' });
    await roundTrip(COVAC, (doc) => {
      const de = doc.dataElements[1];
      de.description = 'Edited on 2.42';
      return { collection: 'dataElements', id: de.id };
    });
  });
});

function sendMessage(doc: Doc): Doc {
  return doc.programRuleActions.find((a: Doc) => a.programRuleActionType === 'SENDMESSAGE' && a.templateUid);
}

describe('a SENDMESSAGE action with a notification template (2.42+ fails to update it at COMMIT)', () => {
  it('the dry run of a change to it fails with the explanation, on its line; restore imports nothing', async () => {
    await start();
    const dir = await exported(COVAC);
    let actionId = '';
    edit(dir, COVAC, (doc) => {
      const action = sendMessage(doc);
      actionId = action.id;
      action.data = "'changed'";
    });
    const before = emulator.store.snapshot();
    const dry = await run(dir, 'dry-run');
    const error = oneClearError(dry);
    expect(error).toContain(`COMMIT_FAILS ProgramRuleAction ${actionId}`);
    expect(error).toContain('cannot update a SENDMESSAGE action that has a notification template');
    expect(error).toContain('give the action a new UID');
    // Annotated on the action in the file.
    const line = Number(/line=(\d+)/.exec(error)?.[1]);
    expect(readFileSync(fileOf(dir, COVAC), 'utf8').split('\n')[line - 1]).toContain('{');
    expect(dry.outputs.status).toBe('ERROR');

    const from = emulator.requests.length;
    const restored = await run(dir, 'restore');
    expect(restored.code).toBe(1);
    expect(metadataPosts(from).filter((p) => p.query.importMode === 'COMMIT')).toEqual([]);
    expect(emulator.store.snapshot() === before).toBe(true);
  });

  it('the way out: the same action under a new UID is created, and the old one removed after the import', async () => {
    await start();
    const dir = await exported(COVAC);
    const NEW_ID = 'NewSendMsg1';
    let oldId = '';
    edit(dir, COVAC, (doc) => {
      const action = sendMessage(doc);
      oldId = action.id;
      action.id = NEW_ID;
      action.data = "'changed'";
      const rule = doc.programRules.find((r: Doc) => r.id === action.programRule.id);
      rule.programRuleActions = rule.programRuleActions.map((a: Doc) => (a.id === oldId ? { id: NEW_ID } : a));
    });
    const dry = await run(dir, 'dry-run');
    expect(dry.errors).toEqual([]);
    expect(dry.summary).toContain(oldId); // listed among what restore removes
    const restored = await run(dir, 'restore');
    expect(restored.errors).toEqual([]);
    expect(restored.code).toBe(0);
    expect(emulator.store.get('programRuleActions', NEW_ID)?.data).toBe("'changed'");
    expect(emulator.store.get('programRuleActions', oldId)).toBeUndefined();
  });

  it('payload: all (the full re-import) leaves the unchanged ones out, so it still works on 2.43', async () => {
    await start();
    const dir = await exported(COVAC);
    writeFileSync(
      join(dir, 'dhis2-metadata.yml'),
      `${readFileSync(join(dir, 'dhis2-metadata.yml'), 'utf8')}restore:\n  payload: all\n`,
    );
    let actionId = '';
    edit(dir, COVAC, (doc) => {
      actionId = sendMessage(doc).id;
      doc.dataElements[0].formName = 'Full re-import';
    });
    const from = emulator.requests.length;
    const restored = await run(dir, 'restore');
    expect(restored.errors).toEqual([]);
    expect(restored.code).toBe(0);
    const commit = metadataPosts(from).find((p) => p.query.importMode === 'COMMIT')!;
    const body = commit.body as Doc;
    expect(body.programs).toHaveLength(1);
    expect((body.programRuleActions ?? []).map((a: Doc) => a.id)).not.toContain(actionId);
    expect(restored.summary).toContain('fails to update them');
  });
});

describe('the import job, whatever becomes of it', () => {
  it('a job that fails on the server: one clear line with the task message, nothing kept', async () => {
    // Between the dry run's view and the COMMIT, someone creates on the server the very SENDMESSAGE action
    // the file adds: the COMMIT then updates it, which 2.43 refuses in the job.
    await start();
    const dir = await exported(COVAC);
    const action = emulator.store.get('programRuleActions', sendMessage(read(dir, COVAC)).id)!;
    emulator.store.remove('programRuleActions', action.id as string);
    const rule = emulator.store.get('programRules', (action.programRule as Doc).id)!;
    emulator.store.put('programRules', {
      ...rule,
      programRuleActions: (rule.programRuleActions as Doc[]).filter((a) => a.id !== action.id),
    });
    // The file has the action (exported before it was removed); the server does not, so restore creates it.
    const before = emulator.store.snapshot();
    emulator.addFault({
      method: 'POST',
      path: '/api/metadata',
      nth: 2, // the COMMIT (the first is the VALIDATE)
      fault: { kind: 'latency', ms: 1500, when: 'before' },
    });
    const restoring = run(dir, 'restore');
    await waitFor(() => emulator.requests.some((r) => r.path === '/api/metadata' && r.query.importMode === 'VALIDATE'));
    emulator.store.put('programRuleActions', action);
    const after = emulator.store.snapshot();
    const restored = await restoring;
    const error = oneClearError(restored);
    expect(error).toMatch(/import job \w+ failed on .*: Process failed: .*TransientPropertyValueException/);
    expect(restored.outputs.status).toBe('ERROR');
    expect(emulator.store.snapshot() === after).toBe(true);
    expect(after === before).toBe(false);
  });

  it('a job queued behind a stale RUNNING job: found, cancelled, explained; it never runs later', async () => {
    await start();
    const dir = await exported(COVAC);
    edit(dir, COVAC, (doc) => (doc.dataElements[0].formName = 'Queued edit'));
    const staleId = emulator.leaveStaleImportJob();
    const before = emulator.store.snapshot();
    const restored = await run(dir, 'restore', { 'import-timeout': '20' });
    const error = oneClearError(restored);
    expect(error).toContain('did not start within 2 s');
    expect(error).toContain(`another METADATA_IMPORT job (${staleId}`);
    expect(error).toContain('DHIS2 queues imports behind it');
    expect(error).toContain('nothing was imported');
    // Housekeeping clears the stale job: the cancelled import must not run then.
    expect(emulator.clearStaleJobs()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.store.snapshot() === before).toBe(true);
  });

  it('a job that outlives the wait but ends while followed: the step tells the truth (OK), never a failure', async () => {
    // The wait (4 s) ends while the job (6 s) runs; the follow-up (4 s more) sees it end.
    await start({ jobDurationMs: 6000 });
    const dir = await exported(COVAC);
    edit(dir, COVAC, (doc) => (doc.dataElements[0].formName = 'Slow edit'));
    const restored = await run(dir, 'restore', { 'import-timeout': '4' });
    expect(restored.errors).toEqual([]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/import job \w+: still running after \d+ s; asking DHIS2 to stop it/);
    expect(emulator.store.list('dataElements').some((d) => d.formName === 'Slow edit')).toBe(true);
  });

  it('a job still running after the wait and the follow-up: one line that says plainly it will still run', async () => {
    // The wait (1 s) and the follow-up (1 s) both end while the job (8 s) runs.
    await start({ jobDurationMs: 8000 });
    const dir = await exported(COVAC);
    edit(dir, COVAC, (doc) => (doc.dataElements[0].formName = 'Very slow edit'));
    const restored = await run(dir, 'restore', { 'import-timeout': '1' });
    const error = oneClearError(restored);
    expect(error).toContain('WILL STILL RUN and may change the server');
    expect(restored.stdout).toMatch(/import job \w+: \d+ s, still running/);
  });
});

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
