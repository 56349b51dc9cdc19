/**
 * Issue 10, parts 2 and 4, end to end as the runner runs the action:
 * - the workspace is a boundary, symbolic links included, for every read and write (config, program files,
 *   output-dir), and so is the report folder (reports, rollback points);
 * - only the token's own comments are the review: a person's copied dry-run comment is ignored and never
 *   edited; a push no merged pull request covers restores only with allow-plan-change.
 */
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction, runCli } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';
import { editProgramFile } from '../helpers/program-files.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const PROGRAM = 'f1AyMswryyQ';
const PASSWORD = 'Pw-boundary-77e1-never-printed';
const SECRET_CONTENT = 'TOP-SECRET-host-key-0f9e';

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

const creds = () => ({ 'server-url': emulator.url, username: 'deployer', password: PASSWORD });
const config = `target: another-server\nprograms:\n  - id: ${PROGRAM}\n`;

function folder(files: Record<string, string> = {}): string {
  const ws = tempWorkspace(files);
  cleanup.push(ws.remove);
  return ws.dir;
}

const edit = (dir: string, fn: (doc: Doc) => void): void => void editProgramFile(dir, PROGRAM, fn);

const imports = (from: number) =>
  emulator.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/api/metadata');

describe('the workspace is a boundary, symbolic links included', () => {
  it('export refuses to write through a linked folder or a linked file, and changes nothing outside', async () => {
    const outside = folder({ 'victim.json': 'do not overwrite\n' });
    const dir = folder({ 'dhis2-metadata.yml': config });
    symlinkSync(outside, join(dir, 'metadata')); // metadata/ -> a folder outside
    const run = await runAction({ command: 'export', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/leads outside the workspace through a symbolic link: refused/);
    expect(readdirSync(outside)).toEqual(['victim.json']);

    const dir2 = folder({ 'dhis2-metadata.yml': config, 'metadata/.keep': '' });
    symlinkSync(join(outside, 'victim.json'), join(dir2, `metadata/${PROGRAM}.json`)); // the file itself
    const run2 = await runAction({ command: 'export', ...creds() }, { workspace: dir2 });
    expect(run2.code).toBe(1);
    expect(run2.errors[0]).toMatch(/leads outside the workspace through a symbolic link: refused/);
    expect(readFileSync(join(outside, 'victim.json'), 'utf8')).toBe('do not overwrite\n');
  });

  it('a dry run refuses a program file linked from outside, never echoing its content, sending nothing', async () => {
    const outside = folder({ id_rsa: `${SECRET_CONTENT}\n` });
    const dir = folder({ 'dhis2-metadata.yml': config, 'metadata/.keep': '' });
    symlinkSync(join(outside, 'id_rsa'), join(dir, `metadata/${PROGRAM}.json`));
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/leads outside the workspace through a symbolic link: refused/);
    expect(run.everything).not.toContain(SECRET_CONTENT);
    expect(imports(from)).toEqual([]);
  });

  it('an invalid file inside the workspace is named by line and column, its content not shown', async () => {
    const dir = folder({
      'dhis2-metadata.yml': config,
      [`metadata/${PROGRAM}.json`]: `{\n  "programs": [\n    ${SECRET_CONTENT}\n  ]\n}\n`,
    });
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/not valid JSON at line 3, column 5/);
    expect(run.stdout + run.stderr + run.summary).not.toContain(SECRET_CONTENT);
    expect(imports(from)).toEqual([]);
  });

  it('a collection with a twice-used id is refused before anything is sent', async () => {
    const dir = folder({
      'dhis2-metadata.yml': config,
      [`metadata/${PROGRAM}.json`]: `{"programs": [{"id": "${PROGRAM}", "name": "x"}],\n"dataElements": [\n{"id": "a"},\n{"id": "a"}\n]}\n`,
    });
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/line 4: "dataElements" holds id "a" twice/);
    expect(imports(from)).toEqual([]);
  });

  it('a config linked from outside is refused', async () => {
    const outside = folder({ 'other.yml': config });
    const dir = folder();
    symlinkSync(join(outside, 'other.yml'), join(dir, 'dhis2-metadata.yml'));
    const run = await runAction({ command: 'export', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/input config "dhis2-metadata.yml" leads outside the workspace/);
  });

  it('download-backup refuses an output-dir that links out of the workspace', async () => {
    const outside = folder();
    const dir = folder({ 'dhis2-metadata.yml': config });
    symlinkSync(outside, join(dir, 'out'));
    const run = await runAction(
      { command: 'download-backup', ...creds(), 'output-dir': 'out', 'backup-id': '1' },
      { workspace: dir },
    );
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/input output-dir "out" leads outside the workspace/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('reports and rollback points are never written through a link out of the report folder', async () => {
    const outside = folder();
    const reports = folder();
    const dir = folder({ 'dhis2-metadata.yml': config });
    expect((await runAction({ command: 'export', ...creds() }, { workspace: dir })).code).toBe(0);
    edit(dir, (doc) => (doc.dataElements[0].name = 'Renamed before the restore'));
    symlinkSync(outside, join(reports, 'rollback')); // planted where restore keeps its rollback points
    const from = emulator.requests.length;
    const run = await runAction(
      { command: 'restore', ...creds() },
      { workspace: dir, env: { DHIS2_METADATA_REPORT_DIR: reports } },
    );
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/rollback point .* leads outside the report folder through a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(imports(from).filter((r) => r.query.importMode === 'COMMIT')).toEqual([]);
  });

  it('the CLI keeps reports in a per-user private folder (0700), not a shared /tmp path', async () => {
    const home = folder();
    const dir = folder({ 'dhis2-metadata.yml': config });
    const run = await runCli(['export'], {
      cwd: dir,
      env: {
        HOME: home,
        DHIS2_SERVER_URL: emulator.url,
        DHIS2_USERNAME: 'deployer',
        DHIS2_PASSWORD: PASSWORD,
      },
    });
    expect(run.code).toBe(0);
    const reportDir = join(home, '.local/state/dhis2-metadata');
    expect(run.stdout).toContain(`report: ${reportDir}/export-report-`);
    expect(statSync(reportDir).mode & 0o777).toBe(0o700);
    const report = readdirSync(reportDir).find((f) => f.startsWith('export-report-'))!;
    expect(statSync(join(reportDir, report)).mode & 0o777).toBe(0o600);
  });
});

describe("only the bot's own comments are the review", () => {
  let github: GitHubStub;
  beforeAll(async () => {
    github = await startGitHubStub();
  });
  afterAll(async () => {
    await github.close();
  });

  it("a person's comment with a copied marker and fingerprint is ignored, and never edited", async () => {
    const dir = folder({ 'dhis2-metadata.yml': config });
    expect((await runAction({ command: 'export', ...creds() }, { workspace: dir })).code).toBe(0);
    const dryRun = (pr: number) =>
      runAction(
        { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
        { workspace: dir, env: pullRequestEnv(dir, github.url, { number: pr }) },
      );

    // Pull request 41 is reviewed with a harmless edit.
    edit(dir, (doc) => (doc.dataElements[0].name = 'Reviewed name'));
    expect((await dryRun(41)).code).toBe(0);
    // Mallory gets a dry run of a different change on pull request 42, copies its comment onto 41, and
    // merges 41 with that change instead.
    edit(dir, (doc) => (doc.dataElements[0].name = 'Never reviewed on 41'));
    expect((await dryRun(42)).code).toBe(0);
    const copied = github.comments('acme', 'dhis2-config', 42)[0]!.body;
    const forged = github.addComment('acme', 'dhis2-config', 41, copied, { login: 'mallory', type: 'User' });
    const sha = '4'.repeat(40);
    github.addPullForCommit(sha, {
      number: 41,
      state: 'closed',
      merged_at: '2026-11-24T10:00:00Z',
      merge_commit_sha: sha,
    });

    const from = emulator.requests.length;
    const run = await runAction(
      { command: 'restore', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env: { ...pullRequestEnv(dir, github.url), GITHUB_EVENT_NAME: 'push', GITHUB_SHA: sha } },
    );
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /restore refused before any import: the plan differs from the one pull request #41/,
    );
    expect(run.stdout).toMatch(/ignored 1 dry-run comment not written by github-actions\[bot\]/);
    expect(imports(from).filter((r) => r.query.importMode === 'COMMIT')).toEqual([]);
    expect(emulator.store.list('dataElements').some((d) => d.name === 'Never reviewed on 41')).toBe(false);
    // Mallory's comment is untouched; the refusal went on the bot's own comment.
    const comments = github.comments('acme', 'dhis2-config', 41);
    expect(comments.find((c) => c.id === forged.id)!.body).toBe(copied);
    expect(comments.find((c) => c.user.type === 'Bot')!.body).toContain('refused');
  });

  it('a push that no merged pull request covers restores only with allow-plan-change', async () => {
    const dir = folder({ 'dhis2-metadata.yml': config });
    expect((await runAction({ command: 'export', ...creds() }, { workspace: dir })).code).toBe(0);
    edit(dir, (doc) => (doc.dataElements[0].name = 'Pushed straight to main'));
    const env = { ...pullRequestEnv(dir, github.url), GITHUB_EVENT_NAME: 'push', GITHUB_SHA: '5'.repeat(40) };
    const from = emulator.requests.length;
    const refused = await runAction(
      { command: 'restore', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env },
    );
    expect(refused.code).toBe(1);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toMatch(/restore refused: commit 5555555 came from no merged pull request/);
    expect(imports(from).filter((r) => r.query.importMode === 'COMMIT')).toEqual([]);

    const allowed = await runAction(
      { command: 'restore', ...creds(), 'github-token': STUB_TOKEN, 'allow-plan-change': 'true' },
      { workspace: dir, env },
    );
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(
      /::warning::commit 5555555 came from no merged pull request.*allow-plan-change is true/,
    );
    expect(emulator.store.list('dataElements').some((d) => d.name === 'Pushed straight to main')).toBe(true);
    expect(existsSync(dir)).toBe(true);
  });

  it('a workflow_dispatch run proceeds, saying so', async () => {
    const dir = folder({ 'dhis2-metadata.yml': config });
    expect((await runAction({ command: 'export', ...creds() }, { workspace: dir })).code).toBe(0);
    const run = await runAction(
      { command: 'restore', ...creds() },
      { workspace: dir, env: { GITHUB_EVENT_NAME: 'workflow_dispatch' } },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /::notice::No reviewed plan to compare with \(workflow_dispatch event: started by a person/,
    );
  });
});
