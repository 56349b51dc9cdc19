import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { repoWithRemote, sh } from '../helpers/git-repo.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction } from '../helpers/run-action.ts';
import { editProgramFile, exportedWorkspace } from '../helpers/program-files.ts';

/**
 * The gate judges the change (interface.md, "What the change brings"): on the real WHO TB and COVAC packages,
 * which carry expressions DHIS2 2.43.1 itself calls invalid (test/fixtures/dhis2/real-2.43.1/expression-verdicts.json),
 * the dry run of an untouched export passes and reports those as already on the server; breaking one valid
 * condition fails it on exactly that condition's line; editing an already-invalid expression fails it; and
 * fail-on: all fails the untouched export. `check` does the same against the pull request's base commit in git.
 */
const TB = 'Lt6P15ps7f6';
const COVAC = 'yDuAzyqYABS';
/** A TB condition DHIS2 calls valid, and one it calls invalid ("2 error(s)"), from expression-verdicts.json. */
const TB_VALID = { rule: 'GY9juHFF6Es', condition: "d2:hasValue('DATE_RR_DETECTED_PREV')" };
const TB_INVALID = { rule: 'UfQ378gSBCa', condition: 'V{current_date} < A{DateBirth}' };
/** COVAC: a valid condition, and the one with "1 error(s)". */
const COVAC_VALID = { rule: 'ZT3tLrXXadf' };
const COVAC_INVALID = { rule: 'ParDbFN1amU', condition: '#{Comorbidity_other_NewestInProgram}' };

let emulator: Emulator;
let github: GitHubStub;
beforeAll(async () => {
  emulator = await startEmulator();
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

const creds = () => ({ 'server-url': emulator.url, username: 'admin', password: 'district' });

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON
const rule = (doc: Doc, id: string) => (doc.programRules as Doc[]).find((r) => r.id === id) as Doc;

/** The 1-based line of the rule's "condition" key in the file (its text is unique in these packages). */
function conditionLine(lines: string[], condition: string): number {
  const at = lines.findIndex(
    (l) =>
      l.trim() === `"condition": ${JSON.stringify(condition)},` ||
      l.trim() === `"condition": ${JSON.stringify(condition)}`,
  );
  expect(at).toBeGreaterThanOrEqual(0);
  return at + 1;
}

async function dryRun(dir: string, extra: Record<string, string> = {}) {
  return runAction({ command: 'dry-run', ...creds(), ...extra }, { workspace: dir });
}

describe.each([
  [TB, TB_VALID.rule, TB_INVALID.rule],
  [COVAC, COVAC_VALID.rule, COVAC_INVALID.rule],
])('dry-run of %s against the server it was exported from', (program, validRule, invalidRule) => {
  it('the untouched export passes: errors 0, the old problems counted in errors-existing', async () => {
    const dir = await exportedWorkspace(creds(), [program], cleanup);
    const run = await dryRun(dir);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.errors).toBe('0');
    expect(Number(run.outputs['errors-existing'])).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/::warning file=metadata\/\w+\.json,line=\d+.*already on the server before this change/);
    expect(run.summary).toMatch(
      /<details><summary>\d+ problems? (was|were) already on the server( \(and \d+ warnings?\))?: not caused by this change/,
    );
    // As GitHub renders it: the old problems' table inside the collapsed block, nothing else swallowed by it.
    const html = new MarkdownIt({ html: true }).render(run.summary);
    const details = html.slice(html.indexOf('<details>'), html.indexOf('</details>'));
    expect(details).toContain('<table>');
    expect(details).not.toContain('<h4>');
  }, 60_000);

  it('fail-on: all fails the untouched export on every old problem', async () => {
    const dir = await exportedWorkspace(creds(), [program], cleanup);
    const run = await dryRun(dir, { 'fail-on': 'all' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('ERROR');
    expect(Number(run.outputs.errors)).toBeGreaterThan(0);
    expect(run.outputs['errors-existing']).toBe('0');
  }, 60_000);

  it('breaking one valid condition fails with errors 1 and one ::error on that condition', async () => {
    const dir = await exportedWorkspace(creds(), [program], cleanup);
    let condition = '';
    const { lines } = editProgramFile(dir, program, (doc) => {
      const r = rule(doc, validRule);
      condition = r.condition = `${r.condition} &&`;
    });
    const run = await dryRun(dir);
    expect(run.code).toBe(1);
    expect(run.outputs.errors).toBe('1');
    expect(Number(run.outputs['errors-existing'])).toBeGreaterThan(0);
    const annotations = run.errors.filter((e) => e.includes('is not valid'));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toContain(`line=${conditionLine(lines, condition)},`);
    expect(annotations[0]).toContain('condition');
    expect(run.errors.some((e) => e.includes('that this change brings'))).toBe(true);
  }, 60_000);

  it('editing an already-invalid expression (still invalid) is the change: it fails', async () => {
    const dir = await exportedWorkspace(creds(), [program], cleanup);
    let condition = '';
    const { lines } = editProgramFile(dir, program, (doc) => {
      const r = rule(doc, invalidRule);
      condition = r.condition = `(${r.condition})`;
    });
    const run = await dryRun(dir);
    expect(run.code).toBe(1);
    expect(run.outputs.errors).toBe('1');
    const annotation = run.errors.find((e) => e.includes('is not valid'));
    expect(annotation).toContain(`line=${conditionLine(lines, condition)},`);
  }, 60_000);
});

describe('dry-run of a change the plan sends nothing for', () => {
  it('a tracked entity attribute a rule variable reads, removed from the file only, is the change: it fails', async () => {
    // The plan changes nothing on the server (the attribute is not deleted by an import), yet the file's rule
    // variable now reads an attribute the file lacks: the server's copy has it, so the problem is the change's.
    const dir = await exportedWorkspace(creds(), [TB], cleanup);
    let attribute = '';
    editProgramFile(dir, TB, (doc) => {
      const variable = (doc.programRuleVariables as Doc[]).find(
        (v) => v.programRuleVariableSourceType === 'TEI_ATTRIBUTE' && v.trackedEntityAttribute?.id,
      ) as Doc;
      attribute = variable.trackedEntityAttribute.id;
      doc.trackedEntityAttributes = (doc.trackedEntityAttributes as Doc[]).filter((a) => a.id !== attribute);
    });
    const run = await dryRun(dir);
    expect(run.code).toBe(1);
    expect(Number(run.outputs.errors)).toBeGreaterThanOrEqual(1);
    const line = run.errors.find((e) =>
      e.includes(`reads tracked entity attribute ${attribute}, which is not in the file`),
    );
    expect(line).toBeDefined();
    expect(line).not.toContain('already on the server');
  }, 60_000);
});

describe('dry-run comment', () => {
  it('says in one line how many problems were already on the server', async () => {
    const dir = await exportedWorkspace(creds(), [TB], cleanup);
    const event = pullRequestEnv(dir, github.url, { number: 21 });
    const run = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env: event },
    );
    expect(run.code).toBe(0);
    const body = github.comments('acme', 'dhis2-config', 21).at(-1)?.body ?? '';
    expect(body).toMatch(/\n\d+ problems were already on the server: not caused by this change\./);
  }, 60_000);
});

/** A repo whose main holds the TB file, and a pull request branch that edits it (`edit`). */
function pullRequestRepo(edit: (doc: Doc) => void) {
  const tb = readFileSync(new URL('../fixtures/dhis2/who_TB-REG_TRACKER_V1_DHIS2.33.json', import.meta.url), 'utf8');
  const repo = repoWithRemote({
    'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${TB}\n    file: metadata/tb.json\n`,
    'metadata/tb.json': tb,
  });
  cleanup.push(repo.remove);
  const base = sh(repo.work, 'rev-parse', 'HEAD');
  sh(repo.work, 'checkout', '--quiet', '-b', 'edit');
  const doc = JSON.parse(tb) as Doc;
  edit(doc);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  writeFileSync(join(repo.work, 'metadata/tb.json'), text);
  sh(repo.work, 'commit', '--quiet', '-am', 'edit');
  sh(repo.work, 'push', '--quiet', 'origin', 'edit');
  return { repo, base, head: sh(repo.work, 'rev-parse', 'HEAD'), lines: text.split('\n') };
}

/** The pull_request event of that branch, with its base commit, as the runner writes it. */
function eventFor(dir: string, base: string, head: string): Record<string, string> {
  const path = join(dir, '..', `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      number: 9,
      pull_request: {
        number: 9,
        head: { sha: head, ref: 'edit', repo: { full_name: 'acme/dhis2-config' } },
        base: { sha: base, ref: 'main', repo: { full_name: 'acme/dhis2-config' } },
      },
    }),
  );
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path, GITHUB_REPOSITORY: 'acme/dhis2-config' };
}

describe('check on a pull request, against its base commit in git', () => {
  it('a change that touches no expression passes; the package`s old problems are warnings', async () => {
    const { repo, base, head } = pullRequestRepo((doc) => {
      doc.dataElements[0].name = `${doc.dataElements[0].name} (renamed)`;
    });
    const run = await runAction({ command: 'check' }, { workspace: repo.work, env: eventFor(repo.work, base, head) });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.errors).toBe('0');
    expect(run.outputs['errors-existing']).toBe('59');
    expect(run.stdout).toContain(`already at the base commit ${base.slice(0, 7)} before this change`);
  }, 60_000);

  it('a change that breaks a condition fails on exactly that condition', async () => {
    const { repo, base, head, lines } = pullRequestRepo((doc) => {
      rule(doc, TB_VALID.rule).condition = `${TB_VALID.condition} &&`;
    });
    const run = await runAction({ command: 'check' }, { workspace: repo.work, env: eventFor(repo.work, base, head) });
    expect(run.code).toBe(1);
    expect(run.outputs.errors).toBe('1');
    const annotations = run.errors.filter((e) => e.includes('is not valid'));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toContain(`file=metadata/tb.json,line=${conditionLine(lines, `${TB_VALID.condition} &&`)},`);
  }, 60_000);

  it('fetches the base commit from origin when a fetch-depth: 1 checkout lacks it', async () => {
    const { repo, base, head } = pullRequestRepo((doc) => {
      rule(doc, TB_VALID.rule).condition = `${TB_VALID.condition} &&`;
    });
    // As actions/checkout with fetch-depth: 1 leaves it: only the head commit.
    const shallow = join(repo.root, 'shallow');
    execFileSync('git', ['clone', '--quiet', '--depth=1', '--branch', 'edit', `file://${repo.remote}`, shallow]);
    expect(() => sh(shallow, 'cat-file', '-e', `${base}^{commit}`)).toThrow();
    const run = await runAction({ command: 'check' }, { workspace: shallow, env: eventFor(shallow, base, head) });
    expect(run.code).toBe(1);
    expect(run.outputs.errors).toBe('1');
    expect(run.outputs['errors-existing']).toBe('59');
  }, 60_000);

  it('when the base cannot be had, every problem counts and one line says why', async () => {
    const { repo, head } = pullRequestRepo(() => {});
    const missing = 'f'.repeat(40);
    const run = await runAction(
      { command: 'check' },
      { workspace: repo.work, env: eventFor(repo.work, missing, head) },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.errors).toBe('59');
    const why = run.stdout.split('\n').filter((l) => l.startsWith('::notice') && l.includes('every problem counts'));
    expect(why).toHaveLength(1);
    expect(why[0]).toContain(`commit ${missing} is not in the checkout and could not be fetched from origin`);
  }, 60_000);

  it('--baseline REF on the command line; a program file new since the base has no before', async () => {
    const { repo } = pullRequestRepo((doc) => {
      rule(doc, TB_VALID.rule).condition = `${TB_VALID.condition} &&`;
    });
    const cli = (args: string[]): { code: number; out: string } => {
      try {
        const out = execFileSync(process.execPath, [join(import.meta.dirname, '../../dist/cli.js'), 'check', ...args], {
          cwd: repo.work,
          env: { PATH: process.env.PATH ?? '', HOME: repo.root },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        return { code: 0, out };
      } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        return { code: err.status, out: `${err.stdout}${err.stderr}` };
      }
    };
    const against = cli(['--baseline', 'main']);
    expect(against.code).toBe(1);
    expect(against.out).toContain('1 invalid expressions or broken references this change brings');
    expect(cli(['--fail-on', 'sometimes']).out).toContain('fail-on must be one of: new, all (got "sometimes")');
    expect(cli(['--baseline', '--upload-pack=x']).code).toBe(1);
    // The same file under a new path: main has no such file, so every problem of it is the change's.
    sh(repo.work, 'mv', 'metadata/tb.json', 'metadata/tb-new.json');
    writeFileSync(
      join(repo.work, 'dhis2-metadata.yml'),
      `target: another-server\nprograms:\n  - id: ${TB}\n    file: metadata/tb-new.json\n`,
    );
    const fresh = cli(['--baseline', 'main']);
    expect(fresh.code).toBe(1);
    expect(fresh.out).toContain('60 invalid expressions or broken references this change brings');
    expect(fresh.out).not.toContain('every problem counts');
  }, 60_000);
});
