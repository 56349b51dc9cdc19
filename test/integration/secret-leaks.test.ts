/**
 * Secrets with Markdown, HTML, JSON and URL special characters (issue 17): the server echoes the password
 * or the token, in an import report's error texts and in the names and descriptions of its metadata, and
 * the action, run as the runner runs it, must write it in no form anywhere: not in the log (annotations
 * included), the job summary, the PR comment, the JSON report, the rollback point, the outputs or the
 * commit message, neither as typed nor JSON-escaped, as mdText's character references, percent-encoded or
 * (the password) as the base64 of `user:password`. Every form that could reach the log is masked.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQueryComponent } from '../../src/dhis2/query.ts';
import { markdownText } from '../../src/github/markdown.ts';
import { DEFAULT_TOKEN, startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { repoWithRemote } from '../helpers/git-repo.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction, runCli, type ActionRun } from '../helpers/run-action.ts';

const PROGRAM = 'f1AyMswryyQ'; // TA Tracker_program of the emulator's seed
const USER = 'deployer';
const SPECIALS = ['_', '!', '"', '\\', '#', '<', '>', '*', '|', '[', ']', '&', '%'];

interface Case {
  label: string;
  secret: string;
  /** How the secret is given: as the password (Basic auth) or as the token. */
  as: 'password' | 'token';
}

const CASES: Case[] = [
  ...SPECIALS.map((c): Case => ({ label: `a password with ${c}`, secret: `Pw${c}k3y${c}x9`, as: 'password' })),
  { label: 'the password of the issue', secret: 'Pa_ss!w"o\\d#24', as: 'password' },
  { label: 'a password with spaces and unicode', secret: 'pässwörd mit  Leer zeichen ✓ 密码', as: 'password' },
  { label: 'a d2p_ token', secret: DEFAULT_TOKEN, as: 'token' },
];

const json = (s: string) => JSON.stringify(s).slice(1, -1);
/** @actions/core's escaping of a workflow command's message (how ::add-mask:: carries a value). */
const commandData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** Every form the secret could take in what the run writes, each checked on its own. */
function forms(c: Case): Record<string, string> {
  const s = c.secret;
  const all: Record<string, string> = {
    raw: s,
    'JSON-escaped': json(s),
    'JSON-escaped twice': json(json(s)),
    'mdText-escaped': markdownText(s),
    'mdText-escaped JSON': markdownText(json(s)),
    'JSON-escaped mdText': json(markdownText(s)),
    'mdText-escaped twice': markdownText(markdownText(s)),
    'one line (blanks collapsed)': s.replace(/\s+/g, ' '),
    encodeURIComponent: encodeURIComponent(s),
    encodeQueryComponent: encodeQueryComponent(s),
    'URL-encoded, lower-case hex': encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()),
    'form-encoded': new URLSearchParams([['', s]]).toString().slice(1),
    'HTML-escaped': s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
    'workflow-command-escaped (%25)': commandData(s),
  };
  if (c.as === 'password') {
    const basic = Buffer.from(`${USER}:${s}`, 'utf8').toString('base64');
    all['base64 of user:password'] = basic;
    all['base64 of user:password, URL-encoded'] = encodeURIComponent(basic);
  }
  return all;
}

/** The forms that could reach the log, each of which must have been given to ::add-mask::. */
const MASKED_FORMS = [
  'raw',
  'JSON-escaped',
  'mdText-escaped',
  'encodeURIComponent',
  'encodeQueryComponent',
  'base64 of user:password',
];

/** Markdown as GitHub renders it, for a reader: character references decoded, zero-width spaces gone. */
function rendered(markdown: string): string {
  return markdown
    .replace(/&#(\d+);/g, (_all, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_all, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&(amp|lt|gt|quot);/g, (_all, n: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"' })[n] as string)
    .replace(/\u200b/g, '');
}

/** The files the run wrote in its report folder: the JSON report and, for a restore, the rollback point. */
function reportFiles(run: ActionRun): { report: string; rollback: string[] } {
  const report = run.outputs.report;
  expect(report, 'the report output').toBeTruthy();
  const dir = join(dirname(report as string), 'rollback');
  const rollback = existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
    : [];
  return { report: readFileSync(report as string, 'utf8'), rollback };
}

/** Asserts that no form of the secret is in `text`, naming the form and the place it was found in. */
function expectNoSecret(c: Case, where: string, text: string): void {
  for (const [form, value] of Object.entries(forms(c))) {
    expect(text.includes(value), `${c.label}: the secret ${form} (${JSON.stringify(value)}) in ${where}`).toBe(false);
  }
}

function expectSafe(c: Case, command: string, run: ActionRun, comment?: string): void {
  expectNoSecret(c, `everything ${command} wrote`, run.everything);
  const log = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  expectNoSecret(c, `${command}'s log`, log);
  expectNoSecret(c, `${command}'s annotations`, run.errors.join('\n'));
  expectNoSecret(c, `${command}'s job summary`, run.summary);
  expectNoSecret(c, `${command}'s job summary as rendered`, rendered(run.summary));
  expectNoSecret(c, `${command}'s outputs`, JSON.stringify(run.outputs) + Object.values(run.outputs).join('\n'));
  const files = reportFiles(run);
  expectNoSecret(c, `${command}'s JSON report`, files.report);
  expect(() => JSON.parse(files.report), `${command}'s JSON report is JSON`).not.toThrow();
  for (const point of files.rollback) {
    expectNoSecret(c, `${command}'s rollback point`, point);
    expect(() => JSON.parse(point), `${command}'s rollback point is JSON`).not.toThrow();
  }
  if (comment !== undefined) {
    expectNoSecret(c, `${command}'s PR comment`, comment);
    expectNoSecret(c, `${command}'s PR comment as rendered`, rendered(comment));
  }
  for (const form of MASKED_FORMS) {
    const value = forms(c)[form];
    if (value === undefined) continue;
    expect(run.masked, `${c.label}: ${command} masks the secret ${form}`).toContain(commandData(value));
  }
}

/** An import report of DHIS2 refusing the program (as 2.41 answers a 409), quoting the secret. */
function refusedImport(secret: string): string {
  const stats = { created: 0, updated: 0, deleted: 0, ignored: 1, total: 1 };
  return JSON.stringify({
    httpStatus: 'Conflict',
    httpStatusCode: 409,
    status: 'ERROR',
    message: `One or more errors occurred, please see full response for details: ${secret}`,
    response: {
      responseType: 'ImportReport',
      status: 'ERROR',
      stats,
      typeReports: [
        {
          klass: 'org.hisp.dhis.program.Program',
          stats,
          objectReports: [
            {
              klass: 'org.hisp.dhis.program.Program',
              index: 0,
              uid: PROGRAM,
              errorReports: [
                {
                  message: `Property \`name\` with value \`${secret}\` on object ${PROGRAM} already exists (bad ${secret})`,
                  mainKlass: 'org.hisp.dhis.program.Program',
                  errorCode: 'E5003',
                  errorProperty: 'name',
                  errorProperties: ['name', secret, PROGRAM],
                  args: [secret],
                },
              ],
            },
          ],
        },
      ],
    },
  });
}

let github: GitHubStub;
beforeAll(async () => {
  github = await startGitHubStub();
});
afterAll(async () => {
  await github.close();
});

describe.concurrent('a secret echoed by the server is written in no form', () => {
  it.each(CASES.map((c, i) => [c.label, c, i] as const))('%s', async (_label, c, i) => {
    const emulator: Emulator = await startEmulator(
      c.as === 'password' ? { users: [{ username: USER, password: c.secret }] } : {},
    );
    const repo = repoWithRemote({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
    try {
      const dir = repo.work;
      const creds: Record<string, string> =
        c.as === 'password'
          ? { 'server-url': emulator.url, username: USER, password: c.secret, programs: PROGRAM }
          : { 'server-url': emulator.url, token: c.secret, programs: PROGRAM };
      const file = join(dir, `metadata/${PROGRAM}.json`);

      // export, committed with a commit message that (by mistake) holds the secret: not in the history.
      const exported = await runAction(
        { command: 'export', ...creds, commit: 'true', 'commit-message': `Export for ${c.secret} (test)` },
        { workspace: dir },
      );
      expect(exported.errors).toEqual([]);
      expect(exported.code).toBe(0);
      expectSafe(c, 'export', exported);
      const message = execFileSync('git', ['log', '-1', '--format=%B'], { cwd: dir, encoding: 'utf8' });
      expect(message).toContain('Export for *** (test)');
      expectNoSecret(c, 'the commit message', message);
      expectNoSecret(c, 'the remote history', repo.remoteLog().join('\n'));
      const exportedFile = readFileSync(file, 'utf8');

      // A server user wrote the secret into the program's name and description.
      const program = emulator.store.get('programs', PROGRAM)!;
      emulator.store.put('programs', { ...program, name: `Child ${c.secret} care`, description: `About ${c.secret}.` });

      // dry-run on a pull request: the diff shows the server's name; DHIS2 refuses the import quoting it.
      emulator.addFault({
        path: '/api/metadata',
        fault: { kind: 'status', status: 409, body: refusedImport(c.secret) },
      });
      const pr = 100 + i;
      const dry = await runAction(
        { command: 'dry-run', ...creds, 'github-token': STUB_TOKEN },
        { workspace: dir, env: pullRequestEnv(dir, github.url, { number: pr }) },
      );
      expect(dry.code).toBe(1);
      expect(dry.summary).toContain('&#42;&#42;&#42;'); // the name and the error were shown, redacted
      const comments = github.comments('acme', 'dhis2-config', pr);
      expect(comments).toHaveLength(1);
      expectSafe(c, 'dry-run', dry, comments[0]!.body);
      expect(rendered(comments[0]!.body)).toContain('Child *** care');

      // restore: the rollback point holds the server's name; the import (2nd POST, after VALIDATE) is refused.
      emulator.clearFaults();
      emulator.addFault({
        path: '/api/metadata',
        nth: 2,
        fault: { kind: 'status', status: 409, body: refusedImport(c.secret) },
      });
      const restored = await runAction({ command: 'restore', ...creds }, { workspace: dir });
      expect(restored.code).toBe(1);
      expect(reportFiles(restored).rollback).toHaveLength(1);
      expectSafe(c, 'restore', restored);

      // export: DHIS2 refuses the read, quoting the secret in its WebMessage.
      emulator.clearFaults();
      emulator.addFault({
        path: `/api/programs/${PROGRAM}/metadata.json`,
        fault: {
          kind: 'status',
          status: 409,
          body: JSON.stringify({
            httpStatus: 'Conflict',
            httpStatusCode: 409,
            status: 'ERROR',
            message: `bad ${c.secret}`,
          }),
        },
      });
      const failed = await runAction({ command: 'export', ...creds }, { workspace: dir });
      expect(failed.code).toBe(1);
      expect(failed.errors.join('\n')).toContain('bad ***');
      expectSafe(c, 'export (refused read)', failed);

      // export of the name holding the secret: the file is not written (nor redacted), the run says why.
      emulator.clearFaults();
      const refused = await runAction({ command: 'export', ...creds }, { workspace: dir });
      expect(refused.code).toBe(1);
      expect(refused.errors.join('\n')).toContain('holds a secret of this run');
      expectSafe(c, 'export (secret in a name)', refused);
      expect(readFileSync(file, 'utf8')).toBe(exportedFile);
    } finally {
      await emulator.close();
    }
  });
});

describe('the secret of the issue on the other write paths', () => {
  const c = CASES.find((x) => x.label === 'the password of the issue')!;

  it('export with commit: pull-request: the title, the body and the branch commit hold no form of it', async () => {
    const emulator = await startEmulator({ users: [{ username: USER, password: c.secret }] });
    const repo = repoWithRemote({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
    const stub = await startGitHubStub({ gitRemote: repo.remote });
    try {
      const creds = { 'server-url': emulator.url, username: USER, password: c.secret, programs: PROGRAM };
      const first = await runAction({ command: 'export', ...creds, commit: 'true' }, { workspace: repo.work });
      expect(first.errors).toEqual([]);
      // The server changes (nothing secret in it); the title and the message inputs hold the secret by mistake.
      const exported = JSON.parse(readFileSync(join(repo.work, `metadata/${PROGRAM}.json`), 'utf8'));
      const de = emulator.store.get('dataElements', exported.dataElements[0].id as string)!;
      emulator.store.put('dataElements', { ...de, formName: 'Changed on the server' });
      const run = await runAction(
        {
          command: 'export',
          ...creds,
          commit: 'pull-request',
          'github-token': STUB_TOKEN,
          'pull-request-title': `Nightly export ${c.secret}`,
          'commit-message': `Export ${c.secret}`,
        },
        {
          workspace: repo.work,
          env: { GITHUB_REPOSITORY: 'acme/dhis2-config', GITHUB_API_URL: stub.url, GITHUB_RUN_ID: '77' },
        },
      );
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expectSafe(c, 'export (pull request)', run);
      const [pr] = stub.pulls();
      expect(pr!.title).toBe('Nightly export ***');
      expectNoSecret(c, 'the pull request title', pr!.title);
      expectNoSecret(c, 'the pull request body', pr!.body);
      expectNoSecret(c, 'the pull request body as rendered', rendered(pr!.body));
      const message = execFileSync('git', ['log', '-1', '--format=%B', 'dhis2-metadata/export'], {
        cwd: repo.remote,
        encoding: 'utf8',
      });
      expect(message.trim()).toBe('Export ***');
    } finally {
      await stub.close();
      await emulator.close();
      repo.remove();
    }
  });

  it('the CLI: dry-run and restore print no form of it, and their report files hold none', async () => {
    const emulator = await startEmulator({ users: [{ username: USER, password: c.secret }] });
    const repo = repoWithRemote({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
    const reportDir = mkdtempSync(join(tmpdir(), 'secret-reports-'));
    try {
      const env = {
        DHIS2_SERVER_URL: emulator.url,
        DHIS2_USERNAME: USER,
        DHIS2_PASSWORD: c.secret,
        DHIS2_METADATA_REPORT_DIR: reportDir,
      };
      const exported = await runCli(['export'], { cwd: repo.work, env });
      expect(exported.code).toBe(0);
      const program = emulator.store.get('programs', PROGRAM)!;
      emulator.store.put('programs', { ...program, name: `Child ${c.secret} care` });
      emulator.addFault({
        path: '/api/metadata',
        fault: { kind: 'status', status: 409, body: refusedImport(c.secret) },
      });
      const dry = await runCli(['dry-run', '--verbose'], { cwd: repo.work, env });
      expect(dry.code).toBe(1);
      expect(dry.stdout).toContain('Child *** care');
      emulator.clearFaults();
      const restored = await runCli(['restore', '--verbose'], { cwd: repo.work, env });
      expect(restored.code).toBe(0);
      for (const [what, run] of [
        ['export', exported],
        ['dry-run', dry],
        ['restore', restored],
      ] as const) {
        expectNoSecret(c, `the CLI's ${what} stdout`, run.stdout);
        expectNoSecret(c, `the CLI's ${what} stderr`, run.stderr);
      }
      const files = readdirSync(reportDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
      expect(files.some((d) => d.parentPath.includes('rollback'))).toBe(true);
      for (const d of files) expectNoSecret(c, `the CLI's ${d.name}`, readFileSync(join(d.parentPath, d.name), 'utf8'));
    } finally {
      await emulator.close();
      repo.remove();
    }
  });
});
