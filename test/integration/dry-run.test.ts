import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_READ_ONLY_TOKEN, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction } from '../helpers/run-action.ts';
import {
  COVAC_INVALID_RULE,
  editProgramFile,
  exportedWorkspace as exportedProgramsWorkspace,
  repairCovacRule,
} from '../helpers/program-files.ts';

const COVAC = 'yDuAzyqYABS';
const PASSWORD = 'Pw-dry-run-4e1b-never-printed';

let emulator: Emulator;
let github: GitHubStub;
const BROKEN_RULE = COVAC_INVALID_RULE;

beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'reviewer', password: PASSWORD }] });
  // These tests are about the import: the server's COVAC gets that rule repaired, so its checks pass and the
  // gate is the import alone (the checks have tests of their own, below and in check.test.ts).
  repairCovacRule(emulator.store);
  github = await startGitHubStub();
});
afterAll(async () => {
  await emulator.close();
  await github.close();
});
let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

const creds = () => ({ 'server-url': emulator.url, username: 'reviewer', password: PASSWORD });

/** A workspace with the program freshly exported (another-server preset), like a repo after the nightly job. */
const exportedWorkspace = (programs = [COVAC]) => exportedProgramsWorkspace(creds(), programs, cleanup);

const editFile: (...args: Parameters<typeof editProgramFile>) => string[] = (dir, id, edit) =>
  editProgramFile(dir, id, edit).lines;

/** Every metadata import the emulator received since `from`. */
function imports(from: number) {
  return emulator.requests.slice(from).filter((r) => r.method === 'POST' && /\/metadata(\.json)?$/.test(r.path));
}

describe('dry-run against the emulator', () => {
  it('an edited name: updated >= 1, the diff names the field, nothing changes on the server', async () => {
    const dir = await exportedWorkspace();
    let de: { id: string; name: string } = { id: '', name: '' };
    editFile(dir, COVAC, (doc) => {
      de = doc.dataElements[2];
      de.name = `${de.name} v2`;
    });
    const before = emulator.store.snapshot();
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(Number(run.outputs.updated)).toBeGreaterThanOrEqual(1);
    expect(Number(run.outputs.total)).toBeGreaterThan(Number(run.outputs.updated) - 1);
    expect(run.outputs.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // What really changes: exactly that data element, field `name`, old -> new.
    const report = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    const changed = report.programs[0].diff.collections.flatMap((c: { changed: unknown[] }) => c.changed);
    expect(changed).toEqual([
      expect.objectContaining({
        id: de.id,
        collection: 'dataElements',
        fields: [{ path: 'name', old: de.name.replace(/ v2$/, ''), new: de.name }],
      }),
    ]);
    expect(run.summary).toContain('1 changed');
    expect(run.summary).toContain(`${de.name.replace(/ v2$/, '')}`);
    // Only VALIDATE imports, with exactly the safe parameters; the server is untouched.
    const sent = imports(from);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.query).toMatchObject({ importMode: 'VALIDATE', importStrategy: 'CREATE_AND_UPDATE', atomicMode: 'ALL' });
    }
    expect(emulator.store.snapshot() === before).toBe(true);
    expect(run.everything).not.toContain(PASSWORD);
  });

  it('the same file and options give the same fingerprint; another edit another one', async () => {
    const dir = await exportedWorkspace();
    const a = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    const b = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(a.outputs.fingerprint).toBe(b.outputs.fingerprint);
    // Unchanged file: every existing object is "updated" for DHIS2, but nothing really changes.
    const report = JSON.parse(readFileSync(a.outputs.report as string, 'utf8'));
    expect(report.programs[0].diff.totals.changed).toBe(0);
    editFile(dir, COVAC, (doc) => (doc.programs[0].description = 'edited'));
    const c = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(c.outputs.fingerprint).not.toBe(a.outputs.fingerprint);
  });

  it('a new data element wired into a stage: created >= 1', async () => {
    const dir = await exportedWorkspace();
    const newId = 'NewDe00001a';
    editFile(dir, COVAC, (doc) => {
      const template = doc.dataElements[0];
      doc.dataElements.push({
        ...template,
        id: newId,
        name: 'Brand new question',
        shortName: 'Brand new q',
        code: 'NEW_Q_1',
      });
      const stage = doc.programStages[0];
      stage.programStageDataElements.push({
        ...stage.programStageDataElements[0],
        id: 'NewPsde0001',
        dataElement: { id: newId },
      });
    });
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.errors).toEqual([]);
    expect(Number(run.outputs.created)).toBeGreaterThanOrEqual(1);
    const report = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    const created = report.programs[0].diff.collections.find(
      (c: { collection: string }) => c.collection === 'dataElements',
    ).created;
    expect(created).toEqual([newId]);
    expect(emulator.store.get('dataElements', newId)).toBeUndefined();
  });

  it('a broken reference: ERROR with E5002, an annotation on the line of the reference, non-zero exit, no COMMIT', async () => {
    const dir = await exportedWorkspace();
    let psdeId = '';
    const lines = editFile(dir, COVAC, (doc) => {
      const psde = doc.programStages[0].programStageDataElements[1];
      psdeId = psde.id;
      psde.dataElement = { id: 'Missing0001' };
    });
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('ERROR');
    const e5002 = run.errors.filter((l) => l.includes('E5002'));
    expect(e5002.length).toBeGreaterThanOrEqual(1);
    const m = /^::error file=([^,]+),line=(\d+)(?:,col=\d+)?::/.exec(e5002[0] ?? '');
    expect(m?.[1]).toBe(`metadata/${COVAC}.json`);
    // The annotated line is the wrong reference itself (the line the pull request changed, shown in "Files
    // changed"), not the opening brace of the stage data element that holds it.
    const line = Number(m?.[2]);
    expect(lines[line - 1]).toMatch(/"id": "Missing0001"/);
    expect(lines.filter((l) => l.includes('Missing0001'))).toHaveLength(1);
    const idLine = lines.findIndex((l) => l.includes(`"id": "${psdeId}"`)) + 1;
    expect(idLine).toBeGreaterThan(0);
    expect(run.summary).toContain('E5002');
    expect(run.summary).toContain('Missing0001');
    for (const r of imports(from)) expect(r.query.importMode).toBe('VALIDATE');
  });

  it('a file that is not valid JSON: one error on its line', async () => {
    const dir = await exportedWorkspace();
    const path = join(dir, `metadata/${COVAC}.json`);
    const text = readFileSync(path, 'utf8').split('\n');
    text[5] = `${text[5]},,`;
    writeFileSync(path, text.join('\n'));
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(new RegExp(`^::error file=metadata/${COVAC}\\.json,line=6.*not valid JSON`));
  });
});

describe('dry-run on a pull request (GitHub REST stand-in)', () => {
  it('creates one comment, edits it on the next run, shows errors when failing, and never duplicates', async () => {
    const dir = await exportedWorkspace();
    const pr = 101;
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const inputs = { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN };

    const first = await runAction(inputs, { workspace: dir, env });
    expect(first.code).toBe(0);
    let comments = github.comments('acme', 'dhis2-config', pr);
    expect(comments).toHaveLength(1);
    const id = comments[0]!.id;
    expect(comments[0]!.body).toContain('DHIS2 dry run: OK');
    expect(comments[0]!.body).toContain(first.outputs.fingerprint);

    editFile(
      dir,
      COVAC,
      (doc) => (doc.programStages[0].programStageDataElements[0].dataElement = { id: 'Missing0002' }),
    );
    const failing = await runAction(inputs, { workspace: dir, env });
    expect(failing.code).toBe(1);
    comments = github.comments('acme', 'dhis2-config', pr);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.id).toBe(id);
    expect(comments[0]!.body).toContain('DHIS2 dry run: ERROR');
    expect(comments[0]!.body).toContain('E5002');
    expect(comments[0]!.body).not.toContain(PASSWORD);
    expect(comments[0]!.body).not.toContain(STUB_TOKEN);
  });

  it('keeps a very large diff under the comment limit, with the counts and a pointer to the summary', async () => {
    const dir = await exportedWorkspace(['Lt6P15ps7f6']);
    // Rename everything: thousands of changed fields.
    editFile(dir, 'Lt6P15ps7f6', (doc) => {
      for (const key of ['dataElements', 'programIndicators', 'programRules', 'programRuleVariables']) {
        for (const o of doc[key] ?? []) o.description = `${'A long rewritten description '.repeat(4)}${o.id}`;
      }
    });
    const pr = 102;
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const run = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env },
    );
    // The WHO TB package carries 59 expressions DHIS2 itself calls invalid, already on the server: the edit
    // brings none, so the gate passes; the comment still fits, with the import's counts and the checks.
    expect(run.code).toBe(0);
    expect(run.outputs.errors).toBe('0');
    expect(Number(run.outputs['errors-existing'])).toBeGreaterThanOrEqual(59);
    const [comment] = github.comments('acme', 'dhis2-config', pr);
    expect(comment).toBeDefined();
    expect(comment!.body.length).toBeLessThanOrEqual(65_000);
    expect(comment!.body).toContain('Checks: program rules and indicators');
    expect(comment!.body).toContain('| program | status |');
    expect(comment!.body).toMatch(/job summary/i);
    expect(run.summary.length).toBeGreaterThan(65_000);
  });

  it('a fork pull request without secrets gets an explanation, not an auth failure', async () => {
    const dir = await exportedWorkspace();
    const env = pullRequestEnv(dir, github.url, { number: 103, fork: true });
    const run = await runAction(
      { command: 'dry-run', 'server-url': emulator.url, 'github-token': STUB_READ_ONLY_TOKEN },
      { workspace: dir, env },
    );
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/fork.*no secrets/);
    // The checks need no server: they ran, and the summary shows them.
    expect(run.summary).toContain('Checks: program rules and indicators');
    expect(run.outputs.errors).toBe('0');
    // The README's workflows keep the server URL in a secret too: the fork gets neither.
    const noUrl = await runAction(
      { command: 'dry-run', 'github-token': STUB_READ_ONLY_TOKEN },
      { workspace: dir, env },
    );
    expect(noUrl.errors).toHaveLength(1);
    expect(noUrl.errors[0]).toMatch(/fork.*no secrets/);
    expect(noUrl.outputs.status).toBe('ERROR');
  });

  it('runs the checks first: a broken condition fails the gate, annotated on its line, with the import validated too', async () => {
    const dir = await exportedWorkspace();
    let line = 0;
    const lines = editFile(dir, COVAC, (doc) => {
      const rule = doc.programRules.find((r: { id: string }) => r.id === BROKEN_RULE);
      rule.condition = '#{Age_Calculated} >';
    });
    line = lines.findIndex((l) => l.includes('"condition": "#{Age_Calculated} >"')) + 1;
    const pr = 107;
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const from = emulator.requests.length;
    const run = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('ERROR');
    expect(Number(run.outputs.errors)).toBeGreaterThanOrEqual(1);
    const annotation = run.errors.find((e) => e.includes(BROKEN_RULE) || e.includes('is not valid'));
    expect(annotation).toContain(`file=metadata/${COVAC}.json,line=${line},`);
    // The import was still validated (the comment shows both), and nothing was committed.
    expect(imports(from).map((r) => r.query.importMode)).toEqual(['VALIDATE']);
    const comment = github.comments('acme', 'dhis2-config', pr).at(-1)!.body;
    expect(comment).toContain('Checks: program rules and indicators');
    expect(comment).toContain('| program | status |');
    expect(run.outputs.changes).toBe('1');
  });

  it('a matrix over programs keeps one comment per leg, each with its own fingerprint', async () => {
    const other = 'f1AyMswryyQ';
    const dir = await exportedWorkspace([COVAC, other]);
    const pr = 105;
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const legs = [];
    for (const program of [COVAC, other, COVAC]) {
      legs.push(
        await runAction(
          { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN, programs: program },
          { workspace: dir, env },
        ),
      );
    }
    const comments = github.comments('acme', 'dhis2-config', pr);
    expect(comments).toHaveLength(2);
    expect(comments.find((c) => c.body.includes(`programs=${COVAC}`))!.body).toContain(legs[0]!.outputs.fingerprint);
    expect(comments.find((c) => c.body.includes(`programs=${other}`))!.body).toContain(legs[1]!.outputs.fingerprint);
  });

  it('comment: false leaves the pull request alone', async () => {
    const dir = await exportedWorkspace();
    const env = pullRequestEnv(dir, github.url, { number: 104 });
    const run = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN, comment: 'false' },
      { workspace: dir, env },
    );
    expect(run.code).toBe(0);
    expect(github.comments('acme', 'dhis2-config', 104)).toHaveLength(0);
  });
});
