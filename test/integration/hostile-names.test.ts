/**
 * Names are data (issue 10, part 3): a program, object and backup name written by a server user or a pull
 * request author goes through every command, run as the runner runs the action, against the emulator and
 * the GitHub stand-in. It must never become a workflow command in the log, live Markdown (mention, image,
 * link, HTML, emphasis) in the summary or the PR comment, or an extra line in the export's commit message.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { repoWithRemote } from '../helpers/git-repo.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction, type ActionRun } from '../helpers/run-action.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const PROGRAM = 'f1AyMswryyQ'; // TA Tracker_program of the emulator's seed
const PASSWORD = 'Pw-hostile-3c1d-never-printed';
const NS = 'programconfigapp_backups';
const FIXTURE: Doc = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/made/pca_backup_record.json'), 'utf8'),
);
const BACKUP_PROGRAM = FIXTURE.metadata.programs[0].id as string;

/** Everything an attacker would try, with line breaks of every kind in between. */
const HOSTILE =
  'Child\n::set-output name=status::OK\r\n::add-mask::forged-mask\n  ::stop-commands::forgedtoken\u2028' +
  '##[add-mask]forged-legacy @someone ![x](http://evil.example/x.png) [click](https://evil.example) ' +
  '<img src=x onerror=alert(1)> | **bold** _em_ www.evil.example\n\nCo-authored-by: Mallory <m@evil.example>';

/** Lines the runner would execute as workflow commands that none of our own messages produce. */
function forgedCommands(stdout: string): string[] {
  return stdout
    .split(/\r\n|[\r\n\u2028\u2029\u0085]/)
    .filter(
      (l) =>
        /^\s*::(set-output|stop-commands|add-mask::forged|set-env|add-path)/.test(l) ||
        l.includes('##[add-mask]') ||
        l.includes('forgedtoken::'),
    );
}

/** Markdown that would be live on GitHub: a raw tag, image or link syntax, a mention, a URL, emphasis. */
function liveMarkdown(markdown: string): string[] {
  const found: string[] = [];
  const checks: [string, RegExp][] = [
    ['html', /<img/i],
    ['image', /!\[x\]/],
    // The hostile name's link (our own link to the workflow run is not one).
    ['link', /\[click\]\(https?:|\]\(https?:\/\/evil/],
    ['mention', /@someone/],
    ['autolink', /https?:\/\/evil|www\.evil/],
    ['emphasis', /\*\*bold\*\*|(^|\s)_em_(\s|$)/m],
    ['pipe', /\| \*\*bold/],
    ['command', /^\s*::(set-output|add-mask|stop-commands)/m],
  ];
  for (const [what, re] of checks) if (re.test(markdown)) found.push(what);
  return found;
}

function expectSafe(run: ActionRun, label: string): void {
  expect(forgedCommands(run.stdout), `${label}: workflow commands in the log`).toEqual([]);
  expect(
    run.masked.some((m) => m.includes('forged')),
    `${label}: a forged mask`,
  ).toBe(false);
  expect(liveMarkdown(run.summary), `${label}: live Markdown in the summary`).toEqual([]);
  expect(run.everything, label).not.toContain(PASSWORD);
}

let emulator: Emulator;
let github: GitHubStub;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'deployer', password: PASSWORD }] });
  github = await startGitHubStub();
  // A server user named the program; another wrote a backup record with the app.
  const program = emulator.store.get('programs', PROGRAM)!;
  emulator.store.put('programs', { ...program, name: HOSTILE, description: HOSTILE });
  const record = structuredClone(FIXTURE);
  record.name = HOSTILE;
  record.comment = HOSTILE;
  record.metadata.programs[0].name = HOSTILE;
  emulator.dataStore.set(NS, new Map([[BACKUP_PROGRAM, { backups: [record] }]]));
});
afterAll(async () => {
  await emulator.close();
  await github.close();
});

describe('a hostile name goes through every command as data', () => {
  it('export, dry-run (with its PR comment), restore, backup, list-backups and download-backup', async () => {
    const repo = repoWithRemote({
      'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n  - id: ${BACKUP_PROGRAM}\n`,
    });
    try {
      const dir = repo.work;
      const creds = { 'server-url': emulator.url, username: 'deployer', password: PASSWORD };
      const only = (id: string) => ({ ...creds, programs: id });

      // export, committed: the commit message has exactly our lines, no forged trailer.
      const exported = await runAction({ command: 'export', ...only(PROGRAM), commit: 'true' }, { workspace: dir });
      expect(exported.errors).toEqual([]);
      expect(exported.code).toBe(0);
      expectSafe(exported, 'export');
      const message = execFileSync('git', ['log', '-1', '--format=%B'], { cwd: dir, encoding: 'utf8' });
      expect(message.trimEnd().split('\n')).toHaveLength(4); // subject, blank, Server:, one program line
      expect(message).not.toMatch(/^Co-authored-by:/m);
      const trailers = execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });
      expect(trailers.trim()).toBe('');
      expect(repo.remoteLog()[0]).toMatch(/^Export Child ::set-output/);

      // A pull request renames a data element to the hostile name: the dry run's diff shows it.
      const file = join(dir, `metadata/${PROGRAM}.json`);
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      doc.dataElements[0].name = HOSTILE;
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
      const prEnv = pullRequestEnv(dir, github.url, { number: 31 });
      const dry = await runAction(
        { command: 'dry-run', ...only(PROGRAM), 'github-token': STUB_TOKEN },
        { workspace: dir, env: prEnv },
      );
      expect(dry.errors).toEqual([]);
      expectSafe(dry, 'dry-run');
      const comment = github.comments('acme', 'dhis2-config', 31)[0]!.body;
      expect(comment).toContain('Child'); // the name is shown...
      expect(liveMarkdown(comment)).toEqual([]); // ...as text

      const restored = await runAction({ command: 'restore', ...only(PROGRAM) }, { workspace: dir });
      expect(restored.errors).toEqual([]);
      expectSafe(restored, 'restore');

      const backup = await runAction({ command: 'backup', ...only(PROGRAM) }, { workspace: dir });
      expect(backup.errors).toEqual([]);
      expectSafe(backup, 'backup');

      const listed = await runAction({ command: 'list-backups', ...only(BACKUP_PROGRAM) }, { workspace: dir });
      expect(listed.code).toBe(0);
      expectSafe(listed, 'list-backups');
      expect(JSON.parse(listed.outputs.backups!)[0].name).toBe(HOSTILE); // outputs keep the data as it is

      const downloaded = await runAction(
        { command: 'download-backup', ...only(BACKUP_PROGRAM), 'backup-id': String(FIXTURE.id) },
        { workspace: dir },
      );
      expect(downloaded.errors).toEqual([]);
      expectSafe(downloaded, 'download-backup');
    } finally {
      repo.remove();
    }
  }, 120_000);
});
