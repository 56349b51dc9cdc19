import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction } from '../helpers/run-action.ts';
import { editProgramFile as edit, exportedWorkspace } from '../helpers/program-files.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const PROGRAM = 'f1AyMswryyQ'; // TA Tracker_program: 7 data elements, 4 org units, shared with a user group
const RULES = 'uHi4GZJOD3n'; // TA event program with program rules: 3 rules, 3 variables
const PASSWORD = 'Pw-restore-77ab-never-printed';

let emulator: Emulator;
beforeEach(async () => {
  // A fresh server per test: restores change it.
  emulator = await startEmulator({ users: [{ username: 'deployer', password: PASSWORD }] });
});
afterEach(async () => {
  await emulator.close();
  cleanup.forEach((f) => f());
  cleanup = [];
});
let cleanup: (() => void)[] = [];

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const creds = () => ({ 'server-url': emulator.url, username: 'deployer', password: PASSWORD });

const exported = (target: string, program: string, restore = '') =>
  exportedWorkspace(creds(), [program], cleanup, { target, extra: restore });

function setRestoreOptions(dir: string, options: string): void {
  const path = join(dir, 'dhis2-metadata.yml');
  writeFileSync(path, `${readFileSync(path, 'utf8')}restore:\n${options}`);
}

const restore = (dir: string, extra: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runAction({ command: 'restore', ...creds(), ...extra }, { workspace: dir, env });

/** Sharing without its owner: the emulator, like DHIS2, makes the importing user the owner when none is sent. */
const access = (obj: Doc | undefined) => {
  const { owner: _owner, ...rest } = (obj?.sharing ?? {}) as Doc;
  return rest;
};
const ouIds = (obj: Doc | undefined) => (obj?.organisationUnits ?? []).map((o: { id: string }) => o.id).sort();
const commits = (from: number) =>
  emulator.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path === '/api/metadata' && r.query.importMode !== 'VALIDATE');

describe('restore against the emulator', () => {
  it('imports the edit, validated first, asynchronously, and verifies it', async () => {
    const dir = await exported('another-server', PROGRAM);
    let deId = '';
    edit(dir, PROGRAM, (doc) => {
      deId = doc.dataElements[0].id;
      doc.dataElements[0].name = 'Renamed by restore';
    });
    const from = emulator.requests.length;
    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(emulator.store.get('dataElements', deId)?.name).toBe('Renamed by restore');
    const log = emulator.requests.slice(from);
    const posts = log.filter((r) => r.method === 'POST' && r.path === '/api/metadata');
    // VALIDATE first, then one COMMIT, run as a job and polled until done.
    expect(posts.map((r) => r.query.importMode)).toEqual(['VALIDATE', 'COMMIT']);
    expect(posts[1]!.query).toMatchObject({ async: 'true', atomicMode: 'ALL', importStrategy: 'CREATE_AND_UPDATE' });
    expect(log.some((r) => r.path.startsWith('/api/system/tasks/METADATA_IMPORT/'))).toBe(true);
    // Only what changed is sent, to VALIDATE and to COMMIT alike: the one renamed data element.
    for (const post of posts) {
      const body = post.body as Doc;
      expect(Object.keys(body)).toEqual(['dataElements']);
      expect(body.dataElements.map((d: Doc) => d.id)).toEqual([deId]);
    }
    expect(run.outputs.updated).toBe('1');
    expect(run.summary).toContain('verified');
    // The rollback point is the server's state before the restore.
    const report = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    const rollback = JSON.parse(readFileSync(report.rollback.files[0], 'utf8'));
    expect(rollback.dataElements.find((d: Doc) => d.id === deId).name).not.toBe('Renamed by restore');
    expect(run.everything).not.toContain(PASSWORD);
  });

  it('a file that matches the server imports nothing and says so', async () => {
    const dir = await exported('another-server', PROGRAM);
    const before = emulator.store.snapshot();
    const from = emulator.requests.length;
    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(run.outputs.total).toBe('0');
    expect(emulator.requests.slice(from).filter((r) => r.path === '/api/metadata')).toEqual([]);
    expect(run.summary).toContain('nothing to change');
    expect(emulator.store.snapshot() === before).toBe(true);
  });

  it('keeps the server org units and sharing by default, even when the file has none', async () => {
    const dir = await exported('another-server', PROGRAM); // no sharing, no org units in the file
    const before = emulator.store.get('programs', PROGRAM)!;
    expect(ouIds(before).length).toBeGreaterThan(0);
    const run = await restore(dir);
    expect(run.code).toBe(0);
    const after = emulator.store.get('programs', PROGRAM)!;
    expect(ouIds(after)).toEqual(ouIds(before));
    expect(access(after)).toEqual(access(before));
  });

  it('overwrite takes the file org units and sharing', async () => {
    const dir = await exported('current-server', PROGRAM); // the file has both
    setRestoreOptions(dir, '  organisationUnits: overwrite\n  sharing: overwrite\n');
    const before = emulator.store.get('programs', PROGRAM)!;
    let kept: string[] = [];
    edit(dir, PROGRAM, (doc) => {
      doc.programs[0].organisationUnits = doc.programs[0].organisationUnits.slice(0, 1);
      kept = ouIds(doc.programs[0]);
      doc.programs[0].sharing.public = 'r-------';
    });
    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    const after = emulator.store.get('programs', PROGRAM)!;
    expect(ouIds(after)).toEqual(kept);
    expect(ouIds(after).length).toBeLessThan(ouIds(before).length);
    expect((after.sharing as Doc).public).toBe('r-------');
  });

  it('keep ignores the file org units and sharing when it has them', async () => {
    const dir = await exported('current-server', PROGRAM);
    const before = emulator.store.get('programs', PROGRAM)!;
    edit(dir, PROGRAM, (doc) => {
      doc.programs[0].organisationUnits = [];
      doc.programs[0].sharing.public = 'r-------';
    });
    const run = await restore(dir);
    expect(run.code).toBe(0);
    const after = emulator.store.get('programs', PROGRAM)!;
    expect(ouIds(after)).toEqual(ouIds(before));
    expect(access(after)).toEqual(access(before));
  });

  it('overwrite with a file exported without sharing never resets existing sharing', async () => {
    const dir = await exported('another-server', PROGRAM);
    setRestoreOptions(dir, '  sharing: overwrite\n');
    const shared = emulator.store.list('dataElements').filter((d) => (d.sharing as Doc | undefined)?.public);
    const before = new Map(shared.map((d) => [d.id as string, d.sharing]));
    const run = await restore(dir);
    expect(run.code).toBe(0);
    expect(before.size).toBeGreaterThan(0);
    for (const [id, sharing] of before) {
      expect(access(emulator.store.get('dataElements', id))).toEqual(access({ sharing }));
    }
    expect(access(emulator.store.get('programs', PROGRAM))).toEqual(
      access((await startEmulatorCopy()).store.get('programs', PROGRAM)),
    );
  });

  it.each([
    ['program', RULES, ['attributes', 'programs']],
    ['programIndicators', PROGRAM, ['attributes', 'programIndicators', 'programs']],
    ['programStageSections', RULES, ['attributes', 'programStages', 'programs']],
    ['programStageDataElements', RULES, ['attributes', 'programStages', 'programs']],
    [
      'dataElements',
      RULES,
      [
        'attributes',
        'dataElements',
        'programRuleActions',
        'programRuleVariables',
        'programRules',
        'programStages',
        'programs',
      ],
    ],
    ['options', PROGRAM, ['attributes', 'optionSets', 'options', 'programs']],
  ])('restore.elements [%s] sends exactly its closure', async (element, program, keys) => {
    const dir = await exported('another-server', program);
    // The Program Config App's full re-import: `payload: all` sends the whole closure, changed or not.
    setRestoreOptions(dir, `  elements: [${element}]\n  payload: all\n`);
    const from = emulator.requests.length;
    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    const [commit] = commits(from);
    expect(Object.keys(commit!.body as Doc).sort()).toEqual(keys);
  });

  it('a failing dry run sends no COMMIT and changes nothing', async () => {
    const dir = await exported('another-server', RULES);
    edit(dir, RULES, (doc) => (doc.programStages[0].programStageDataElements[0].dataElement = { id: 'NoSuchDe001' }));
    const before = emulator.store.snapshot();
    const from = emulator.requests.length;
    const run = await restore(dir);
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('ERROR');
    expect(commits(from)).toEqual([]);
    expect(emulator.store.snapshot() === before).toBe(true);
    expect(run.errors.some((e) => e.includes('E5002'))).toBe(true);
  });

  it('a 5xx on the main import leaves every existing rule in place', async () => {
    const dir = await exported('another-server', RULES);
    edit(dir, RULES, (doc) => {
      doc.programRules = doc.programRules.slice(1); // one rule less: restore would delete it after success
      doc.programRules[0].name = 'Renamed rule';
    });
    const rulesBefore = emulator.store.list('programRules').filter((r) => (r.program as Doc).id === RULES);
    // Every COMMIT of /api/metadata fails: the 1st POST is the VALIDATE, then the COMMIT and its retries.
    emulator.addFault({
      method: 'POST',
      path: '/api/metadata',
      nth: 2,
      times: Infinity,
      fault: { kind: 'status', status: 500 },
    });
    const run = await restore(dir);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/500/);
    const rulesAfter = emulator.store.list('programRules').filter((r) => (r.program as Doc).id === RULES);
    expect(rulesAfter).toEqual(rulesBefore);
  });

  it('removes the rules and variables the file no longer has, only after the import succeeded', async () => {
    const dir = await exported('another-server', RULES);
    let goneRule = '';
    let goneVariable = '';
    edit(dir, RULES, (doc) => {
      goneRule = doc.programRules[0].id;
      goneVariable = doc.programRuleVariables[0].id;
      doc.programRules = doc.programRules.slice(1);
      doc.programRuleVariables = doc.programRuleVariables.slice(1);
    });
    const from = emulator.requests.length;
    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    expect(emulator.store.get('programRules', goneRule)).toBeUndefined();
    expect(emulator.store.get('programRuleVariables', goneVariable)).toBeUndefined();
    expect(emulator.store.list('programRules').filter((r) => (r.program as Doc).id === RULES)).toHaveLength(2);
    // Nothing else changed: no import at all, only the deletions.
    const strategies = commits(from).map((r) => r.query.importStrategy);
    expect(strategies).toEqual(['DELETE']);
    expect(Number(run.outputs.deleted)).toBeGreaterThanOrEqual(2);
  });
});

// The seeded state of a fresh emulator, to compare with.
async function startEmulatorCopy(): Promise<Emulator> {
  const copy = await startEmulator();
  cleanup.push(() => void copy.close());
  return copy;
}

describe('restore on a push: exactly the reviewed plan (GitHub REST stand-in)', () => {
  let github: GitHubStub;
  beforeAll(async () => {
    github = await startGitHubStub();
  });
  afterAll(async () => {
    await github.close();
  });

  async function reviewAndMerge(dir: string, pr: number, sha: string) {
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const dry = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env },
    );
    expect(dry.code).toBe(0);
    github.addPullForCommit(sha, {
      number: pr,
      state: 'closed',
      merged_at: '2026-11-24T10:00:00Z',
      merge_commit_sha: sha,
    });
    return {
      ...env,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_SHA: sha,
    };
  }

  it('proceeds when the payload is the reviewed one', async () => {
    const dir = await exported('another-server', PROGRAM);
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Reviewed name'));
    const env = await reviewAndMerge(dir, 201, 'b'.repeat(40));
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain('exactly the one pull request #201');
    expect(emulator.store.list('dataElements').some((d) => d.name === 'Reviewed name')).toBe(true);
  });

  it('refuses a review whose comment someone else edited (the fingerprint of another review pasted in)', async () => {
    // PR 208 reviews a hostile change; PR 207 a harmless one. Someone with write access pushes the hostile change
    // to PR 207 and swaps the hidden lines of PR 207's comment for PR 208's: the visible comment still shows the
    // harmless change.
    const dir = await exported('another-server', PROGRAM);
    const original = readFileSync(join(dir, `metadata/${PROGRAM}.json`), 'utf8');
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Hostile name'));
    const hostileEnv = pullRequestEnv(dir, github.url, { number: 208 });
    const hostile = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env: hostileEnv },
    );
    expect(hostile.code).toBe(0);
    const hostileLines = github
      .comments('acme', 'dhis2-config', 208)[0]!
      .body.split('\n')
      .filter((l) => /<!-- dhis2-metadata:(fingerprint|deletions)/.test(l));
    writeFileSync(join(dir, `metadata/${PROGRAM}.json`), original);
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Harmless name'));
    const sha = '7'.repeat(40);
    const env = await reviewAndMerge(dir, 207, sha);
    const review = github.comments('acme', 'dhis2-config', 207)[0]!;
    const tampered = review.body
      .split('\n')
      .filter((l) => !/<!-- dhis2-metadata:(fingerprint|deletions)/.test(l))
      .flatMap((l, i) => (i === 0 ? [l, ...hostileLines] : [l]))
      .join('\n');
    github.editComment(review.id, tampered, { login: 'mallory', type: 'User' });
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Hostile name'));

    const before = emulator.store.snapshot();
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /restore refused before any import: the dry-run comment of pull request #207 was edited by mallory/,
    );
    expect(emulator.store.snapshot()).toBe(before);
    // A note of its own on the pull request; the edited comment is left as it is (never rewritten by the bot).
    const after = github.comments('acme', 'dhis2-config', 207);
    expect(after).toHaveLength(2);
    expect(after[0]!.body).toBe(tampered);
    expect(after[1]!.body).toContain('was edited by mallory after the bot wrote it');
    // The bot's own later edit (a new dry run) makes it a review again.
    github.editComment(review.id, review.body, { login: 'github-actions[bot]', type: 'Bot' });
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Harmless name'));
    const again = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(again.errors).toEqual([]);
    expect(again.stdout).toContain('exactly the one pull request #207');
  });

  it.each([
    ['another field of the object the change renames', 'description', 'Edited on the server after the review'],
    ['the same field', 'name', 'Renamed on the server after the review'],
  ])('refuses when the server changed %s since the review, naming the object and field', async (_, field, value) => {
    const dir = await exported('another-server', PROGRAM);
    let de = '';
    edit(dir, PROGRAM, (doc) => {
      de = doc.dataElements[0].id;
      doc.dataElements[0].name = `Reviewed ${field}`;
    });
    const sha = field === 'name' ? '5'.repeat(40) : '6'.repeat(40);
    const env = await reviewAndMerge(dir, field === 'name' ? 211 : 210, sha);
    // Someone edits the data element on the server after the review: the restore would silently revert it.
    emulator.store.put('dataElements', { ...emulator.store.get('dataElements', de)!, [field]: value });
    const before = emulator.store.snapshot();
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      new RegExp(
        `the server changed since pull request #21[01]'s dry run: ${PROGRAM}: .*\\(${de}\\) changed \\(${field}\\)`,
      ),
    );
    expect(emulator.store.snapshot()).toBe(before);
    expect(emulator.store.get('dataElements', de)?.[field]).toBe(value);
    const comments = github.comments('acme', 'dhis2-config', field === 'name' ? 211 : 210);
    expect(comments.at(-1)!.body).toContain('The server changed since this dry run');
    // With allow-plan-change it proceeds (the review's plan, over the server's edit), saying what it overwrites.
    const forced = await restore(dir, { 'github-token': STUB_TOKEN, 'allow-plan-change': 'true' }, env);
    expect(forced.errors).toEqual([]);
    expect(forced.stdout).toMatch(/::warning::the server changed since pull request/);
  });

  it('proceeds when the server changed only objects outside the program', async () => {
    const dir = await exported('another-server', PROGRAM);
    const inFile = new Set<string>();
    edit(dir, PROGRAM, (doc) => {
      for (const d of doc.dataElements) inFile.add(d.id);
      doc.dataElements[0].name = 'Reviewed, the server edits elsewhere';
    });
    const env = await reviewAndMerge(dir, 212, '4'.repeat(40));
    const elsewhere = emulator.store.list('dataElements').find((d) => !inFile.has(d.id as string))!;
    emulator.store.put('dataElements', { ...elsewhere, description: 'Edited elsewhere' });
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain('exactly the one pull request #212');
  });

  it("refuses a review of an earlier commit than the pull request's last one", async () => {
    const dir = await exported('another-server', PROGRAM);
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Reviewed at an earlier commit'));
    const prEnv = pullRequestEnv(dir, github.url, { number: 209 });
    const dry = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env: prEnv },
    );
    expect(dry.code).toBe(0);
    // The pull request's last commit is another one than the one its dry run reviewed.
    const sha = '9'.repeat(40);
    github.addPullForCommit(sha, {
      number: 209,
      state: 'closed',
      merged_at: '2026-11-24T10:00:00Z',
      merge_commit_sha: sha,
      head: { sha: '8'.repeat(40) },
    });
    const env = { ...prEnv, GITHUB_EVENT_NAME: 'push', GITHUB_SHA: sha };
    const before = emulator.store.snapshot();
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/reviewed commit aaaaaaa, not its last commit 8888888/);
    expect(emulator.store.snapshot()).toBe(before);
  });

  it('refuses, and says so on the pull request, when the payload changed after the review', async () => {
    const dir = await exported('another-server', PROGRAM);
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Reviewed name'));
    const env = await reviewAndMerge(dir, 202, 'c'.repeat(40));
    edit(dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Sneaked in after review'));
    const before = emulator.store.snapshot();
    const from = emulator.requests.length;
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/restore refused before any import: the plan differs from the one pull request #202/);
    expect(commits(from)).toEqual([]);
    expect(emulator.store.snapshot() === before).toBe(true);
    expect(github.comments('acme', 'dhis2-config', 202)[0]!.body).toContain('Restore to');
    expect(github.comments('acme', 'dhis2-config', 202)[0]!.body).toContain('refused');
    // The refusal still writes the report and the outputs.
    expect(run.outputs.status).toBe('ERROR');
    const refused = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    expect(refused.programs[0].error).toMatch(/plan check refused/);

    // With allow-plan-change it goes ahead.
    const forced = await restore(dir, { 'github-token': STUB_TOKEN, 'allow-plan-change': 'true' }, env);
    expect(forced.code).toBe(0);
    expect(emulator.store.list('dataElements').some((d) => d.name === 'Sneaked in after review')).toBe(true);
  });

  it('a rule added on the server after the review survives the merge: refused, named; with allow-plan-change kept', async () => {
    const dir = await exported('another-server', RULES);
    edit(dir, RULES, (doc) => (doc.programRules[0].description = 'Reviewed rule change'));
    const env = await reviewAndMerge(dir, 204, 'e'.repeat(40));
    // After the review, someone adds a rule on production: the file does not have it, so restore would
    // delete it as "no longer in the file", although no reviewer saw that.
    const NEW_RULE = 'AddedLater1';
    emulator.store.put('programRules', {
      id: NEW_RULE,
      name: 'Added on production after the review',
      program: { id: RULES },
      condition: 'true',
      programRuleActions: [],
    });
    const from = emulator.requests.length;
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`${RULES}: would also delete programRules:${NEW_RULE}`);
    expect(commits(from)).toEqual([]);
    expect(emulator.store.get('programRules', NEW_RULE)).toBeDefined();
    expect(github.comments('acme', 'dhis2-config', 204)[0]!.body).toContain(
      `would also delete programRules:${NEW_RULE}`,
    );

    // allow-plan-change lets the reviewed change through, but never the unreviewed deletion.
    const forced = await restore(dir, { 'github-token': STUB_TOKEN, 'allow-plan-change': 'true' }, env);
    expect(forced.code).toBe(0);
    expect(emulator.store.get('programRules', NEW_RULE)).toBeDefined();
    expect(forced.stdout + forced.stderr).toContain(`kept programRules ${NEW_RULE}`);
    expect(emulator.store.list('programRules').some((r) => r.description === 'Reviewed rule change')).toBe(true);
  });

  it('a rule the review listed for deletion is deleted on the merge', async () => {
    const dir = await exported('another-server', RULES);
    let gone = '';
    edit(dir, RULES, (doc) => {
      gone = doc.programRules[0].id;
      doc.programRules = doc.programRules.slice(1);
    });
    const env = await reviewAndMerge(dir, 205, 'f'.repeat(40));
    const run = await restore(dir, { 'github-token': STUB_TOKEN }, env);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(emulator.store.get('programRules', gone)).toBeUndefined();
  });

  it('a dry run over the whole config covers a restore of one program, and a matrix of dry runs a restore of all', async () => {
    const ws = tempWorkspace({
      'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n  - id: ${RULES}\n`,
    });
    cleanup.push(ws.remove);
    expect((await runAction({ command: 'export', ...creds() }, { workspace: ws.dir })).code).toBe(0);
    edit(ws.dir, PROGRAM, (doc) => (doc.dataElements[0].name = 'Reviewed across the config'));

    // One dry run over both programs; the restore runs as a matrix leg for one of them.
    const env = await reviewAndMerge(ws.dir, 203, 'd'.repeat(40));
    const leg = await restore(ws.dir, { 'github-token': STUB_TOKEN, programs: PROGRAM }, env);
    expect(leg.errors).toEqual([]);
    expect(leg.stdout).toContain('exactly the one pull request #203');

    // A matrix of dry runs (one comment per program), then one restore of both.
    const prEnv = pullRequestEnv(ws.dir, github.url, { number: 204 });
    for (const program of [PROGRAM, RULES]) {
      const dry = await runAction(
        { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN, programs: program },
        { workspace: ws.dir, env: prEnv },
      );
      expect(dry.code).toBe(0);
    }
    const sha = 'e'.repeat(40);
    github.addPullForCommit(sha, {
      number: 204,
      state: 'closed',
      merged_at: '2026-11-24T11:00:00Z',
      merge_commit_sha: sha,
    });
    const all = await restore(
      ws.dir,
      { 'github-token': STUB_TOKEN },
      { ...prEnv, GITHUB_EVENT_NAME: 'push', GITHUB_SHA: sha },
    );
    expect(all.errors).toEqual([]);
    expect(all.stdout).toContain('exactly the one pull request #204');
  });

  it('a manual run has no reviewed plan: it says so and proceeds', async () => {
    const dir = await exported('another-server', PROGRAM);
    const run = await restore(dir, {}, { GITHUB_EVENT_NAME: 'workflow_dispatch' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No reviewed plan to compare with (workflow_dispatch event');
  });
});

describe('dry-run and restore from an in-server backup (backup-id)', () => {
  it('a restore from a backup brings back a changed data element name', async () => {
    const ws = tempWorkspace({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
    cleanup.push(ws.remove);
    const backup = await runAction(
      { command: 'backup', ...creds(), 'backup-name': 'Before the rename', 'backup-version': '1' },
      { workspace: ws.dir },
    );
    expect(backup.errors).toEqual([]);
    // A data element of the program, from its dependency export.
    const auth = `Basic ${Buffer.from(`deployer:${PASSWORD}`).toString('base64')}`;
    const exported = (await (
      await fetch(`${emulator.url}/api/programs/${PROGRAM}/metadata.json`, { headers: { Authorization: auth } })
    ).json()) as Doc;
    const target = emulator.store.get('dataElements', exported.dataElements[0].id)!;
    const original = target.name as string;
    emulator.store.put('dataElements', { ...target, name: 'Renamed on the server' });

    // The dry run from the backup shows the rename back, and changes nothing.
    const dry = await runAction(
      { command: 'dry-run', ...creds(), 'backup-id': 'Before the rename' },
      { workspace: ws.dir },
    );
    expect(dry.errors).toEqual([]);
    const report = JSON.parse(readFileSync(dry.outputs.report as string, 'utf8'));
    const changed = report.programs[0].diff.collections.flatMap((c: { changed: Doc[] }) => c.changed);
    expect(changed).toContainEqual(
      expect.objectContaining({
        id: target.id,
        fields: [{ path: 'name', old: 'Renamed on the server', new: original }],
      }),
    );
    expect(emulator.store.get('dataElements', target.id as string)?.name).toBe('Renamed on the server');

    const run = await restore(ws.dir, { 'backup-id': 'Before the rename' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(emulator.store.get('dataElements', target.id as string)?.name).toBe(original);
  });

  it('with several programs, those without the backup are left out with a notice', async () => {
    const ws = tempWorkspace({
      'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n  - id: ${RULES}\n`,
    });
    cleanup.push(ws.remove);
    const backup = await runAction(
      { command: 'backup', ...creds(), programs: PROGRAM, 'backup-name': 'Just one', 'backup-version': '1' },
      { workspace: ws.dir },
    );
    expect(backup.errors).toEqual([]);
    const dry = await runAction({ command: 'dry-run', ...creds(), 'backup-id': 'Just one' }, { workspace: ws.dir });
    expect(dry.errors).toEqual([]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`::notice::Left out ${RULES}: no backup "Just one"`));
    const report = JSON.parse(readFileSync(dry.outputs.report as string, 'utf8'));
    expect(report.programs.map((p: { id: string }) => p.id)).toEqual([PROGRAM]);
  });

  it('an unknown backup-id names the backups there are', async () => {
    const ws = tempWorkspace({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
    cleanup.push(ws.remove);
    await runAction(
      { command: 'backup', ...creds(), 'backup-name': 'Only one', 'backup-version': '1' },
      { workspace: ws.dir },
    );
    const run = await restore(ws.dir, { 'backup-id': 'No such backup' });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('Only one');
  });
});

describe('restore keeps what the file does not carry', () => {
  it('legend sets and category combos removed by the export preset stay on the server', async () => {
    const hnqis = 'XY5mWAnxSoN'; // the made HNQIS2 sample: a data element with legend sets
    const withLegends = emulator.store
      .list('dataElements')
      .filter((d) => Array.isArray(d.legendSets) && (d.legendSets as unknown[]).length > 0);
    expect(withLegends.length).toBeGreaterThan(0);
    const dir = await exported('another-server', hnqis, 'remove:\n  legendSets: true\n  categories: true\n');
    const file = JSON.parse(readFileSync(join(dir, `metadata/${hnqis}.json`), 'utf8'));
    expect(JSON.stringify(file)).not.toContain('"legendSets"');
    expect(JSON.stringify(file)).not.toContain('"categoryCombo"');

    const dry = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(dry.errors).toEqual([]);
    const report = JSON.parse(readFileSync(dry.outputs.report as string, 'utf8'));
    expect(report.programs[0].diff.totals.changed).toBe(0);

    const run = await restore(dir);
    expect(run.errors).toEqual([]);
    for (const de of withLegends) {
      const after = emulator.store.get('dataElements', de.id as string)!;
      expect(after.legendSets).toEqual(de.legendSets);
      expect(after.categoryCombo).toEqual(de.categoryCombo);
    }
    const program = emulator.store.get('programs', hnqis)!;
    expect(program.categoryCombo).toBeDefined();
  });
});

describe('restore reports whatever happens after the import', () => {
  it('a failure while removing stale rules is a warning: the import stays, the report and outputs are written', async () => {
    const dir = await exported('another-server', RULES);
    let gone = '';
    edit(dir, RULES, (doc) => {
      gone = doc.programRules[0].id;
      doc.programRules = doc.programRules.slice(1);
      doc.programRules[0].name = 'Renamed before the failure';
    });
    // POSTs to /api/metadata: 1 VALIDATE, 2 the COMMIT job, 3+ the DELETE of the stale rule (and retries).
    emulator.addFault({
      method: 'POST',
      path: '/api/metadata',
      nth: 3,
      times: Infinity,
      fault: { kind: 'status', status: 500 },
    });
    const run = await restore(dir);
    expect(run.outputs.status).toBe('WARNING');
    expect(run.code).toBe(0);
    expect(emulator.store.list('programRules').some((r) => r.name === 'Renamed before the failure')).toBe(true);
    expect(emulator.store.get('programRules', gone)).toBeDefined();
    const report = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    expect(report.programs[0].after.join(' ')).toMatch(/removing the stale rules failed after the import succeeded/);
    expect(run.summary).toContain('Rollback point');
  });
});

describe('a rule re-created under a new UID', () => {
  it('the dry run fails with DHIS2 E4057, says how to get out of it, and nothing is imported', async () => {
    const dir = await exported('another-server', RULES);
    // On the server, the first rule was deleted and made again with the same name (a new UID).
    const [rule] = emulator.store.list('programRules').filter((r) => (r.program as Doc).id === RULES);
    emulator.store.remove('programRules', rule!.id as string);
    emulator.store.put('programRules', { ...rule!, id: 'NewRuleUid1', programRuleActions: [] });
    const before = emulator.store.snapshot();
    const run = await restore(dir);
    expect(run.code).toBe(1);
    expect(run.errors.some((e) => e.includes('E4057'))).toBe(true);
    expect(run.summary).toContain(`has the name of NewRuleUid1 on the server`);
    expect(emulator.store.snapshot() === before).toBe(true);
  });
});
