/**
 * The job summaries and the pull-request comment of a two-program dry run and restore, RENDERED by a real
 * CommonMark + GFM-tables parser (markdown-it, as GitHub renders them), and their structure checked: headings
 * are headings, a program's section never ends up inside the previous program's last list item, tables are
 * tables (no pipe row left as a paragraph), no emphasis marker left unparsed. Also the comment's label, commit,
 * time and run link, and that restore finds a labelled comment.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { repairCovacRule } from '../helpers/program-files.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { runAction } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const COVAC = 'yDuAzyqYABS';
const TA = 'f1AyMswryyQ';
const PASSWORD = 'Pw-render-7d2c-never-printed';

let emulator: Emulator;
let github: GitHubStub;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'reviewer', password: PASSWORD }] });
  // The checks are not the subject here: COVAC's one invalid rule is repaired so the dry run passes.
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

async function twoProgramWorkspace(): Promise<string> {
  const ws = tempWorkspace({
    'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${COVAC}\n  - id: ${TA}\n`,
  });
  cleanup.push(ws.remove);
  const run = await runAction({ command: 'export', ...creds() }, { workspace: ws.dir });
  expect(run.code).toBe(0);
  // A real change in each program, so each has a section with a table of changes and notes.
  for (const id of [COVAC, TA]) {
    const path = join(ws.dir, `metadata/${id}.json`);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    doc.dataElements[0].name = `${doc.dataElements[0].name} (edited ${id})`;
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return ws.dir;
}

interface Rendered {
  headings: { level: number; text: string; inList: boolean }[];
  tables: { headers: string[]; rows: number; inList: boolean }[];
  /** Paragraph texts, with whether a list item holds them. */
  paragraphs: { text: string; inList: boolean }[];
  listItems: string[];
  html: string;
}

const markdown = new MarkdownIt({ html: true });

/** Parses `text` as GitHub would (CommonMark, GFM tables, raw HTML) and collects its structure. */
function render(text: string): Rendered {
  const tokens = markdown.parse(text, {});
  const out: Rendered = { headings: [], tables: [], paragraphs: [], listItems: [], html: markdown.render(text) };
  const stack: string[] = [];
  let table: Rendered['tables'][number] | undefined;
  let inHead = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const inList = stack.includes('list_item');
    if (t.nesting === 1) stack.push(t.type.replace(/_open$/, ''));
    if (t.nesting === -1) stack.pop();
    const inline = tokens[i + 1]?.type === 'inline' ? tokens[i + 1]!.content : '';
    if (t.type === 'heading_open') out.headings.push({ level: Number(t.tag.slice(1)), text: inline, inList });
    if (t.type === 'paragraph_open') out.paragraphs.push({ text: inline, inList });
    if (t.type === 'list_item_open') out.listItems.push('');
    if (t.type === 'inline' && stack.includes('list_item') && out.listItems.length > 0) {
      out.listItems[out.listItems.length - 1] += `${t.content}\n`;
    }
    if (t.type === 'table_open') {
      table = { headers: [], rows: 0, inList };
      out.tables.push(table);
    }
    if (t.type === 'thead_open') inHead = true;
    if (t.type === 'thead_close') inHead = false;
    if (t.type === 'th_open' && inHead && table) table.headers.push(inline);
    if (t.type === 'tr_open' && !inHead && table) table.rows++;
  }
  return out;
}

/** The checks every summary and comment must pass, whatever their content. */
function expectWellFormed(r: Rendered, programs: string[]): void {
  // No table left as text: a row of pipes in a paragraph is a table that did not render.
  for (const p of r.paragraphs) {
    expect(p.text, `a pipe row rendered as a paragraph: ${p.text}`).not.toMatch(/^\|.*\|$/m);
    expect(p.text, `an unparsed heading inside a paragraph: ${p.text}`).not.toMatch(/^#{1,6} /m);
  }
  // Emphasis that did not parse shows as literal asterisks in the HTML.
  expect(r.html.replace(/<code>[^<]*<\/code>/g, '')).not.toMatch(/\*\*/);
  // Every heading and table is at the top level: none is inside a list item.
  for (const h of r.headings) expect(h.inList, `heading inside a list item: ${h.text}`).toBe(false);
  for (const t of r.tables) expect(t.inList, `table inside a list item: ${t.headers.join(' | ')}`).toBe(false);
  // Each program has a section of its own under a heading (not a bold line glued to the previous list).
  for (const id of programs) {
    const headings = r.headings.filter((h) => h.text.includes(id) && h.level === 4);
    expect(headings.length, `no heading for program ${id}`).toBeGreaterThanOrEqual(1);
  }
  // No program's section continues a list item (the old bug: a program's bold title and counts glued into
  // the previous program's last bullet).
  for (const item of r.listItems) expect(item).not.toMatch(/\d+ new, \d+ changed, \d+ unchanged/);
  // The per-program "n new, n changed, n unchanged" lines are paragraphs of their own.
  const totals = r.paragraphs.filter((p) => /^\d+ new, \d+ changed, \d+ unchanged\.$/.test(p.text));
  expect(totals).toHaveLength(programs.length);
  for (const p of totals) expect(p.inList).toBe(false);
}

/** The counts table: what really changes first, one row per program. */
function expectCountsTable(r: Rendered, programs: number): void {
  const counts = r.tables.find((t) => t.headers[0] === 'program' && t.headers.includes('created'));
  expect(counts).toBeDefined();
  expect(counts!.headers.slice(0, 4)).toEqual(['program', 'status', 'really changes', 'rules removed']);
  expect(counts!.rows).toBe(programs);
  // The changed fields are a table too: one row per changed field at least.
  const changes = r.tables.filter((t) => t.headers.join('|') === 'object|field|server now|file');
  expect(changes).toHaveLength(programs);
}

describe('summaries and the comment of two programs render as well-formed Markdown', () => {
  it('dry run on a pull request (with a label) and the restore after the merge', async () => {
    const dir = await twoProgramWorkspace();
    const pr = 301;
    const env = pullRequestEnv(dir, github.url, { number: pr });
    const dry = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN, label: 'staging' },
      { workspace: dir, env },
    );
    expect(dry.errors).toEqual([]);
    expect(dry.code).toBe(0);
    expect(dry.outputs.changes).toBe('2');

    const summary = render(dry.summary);
    expectWellFormed(summary, [COVAC, TA]);
    expectCountsTable(summary, 2);

    const comments = github.comments('acme', 'dhis2-config', pr);
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    const comment = render(body);
    expectWellFormed(comment, [COVAC, TA]);
    expectCountsTable(comment, 2);
    // The title names the label; then the commit reviewed (the PR's head), the time and the run.
    const title = comment.headings[0]!;
    expect(title.level).toBe(3);
    expect(title.text).toMatch(/^✅ DHIS2 dry run \(staging\): OK on /);
    const provenance = comment.paragraphs[0]!.text;
    expect(provenance).toMatch(
      /^For commit `aaaaaaa` at \d{4}-\d\d-\d\d \d\d:\d\d UTC in \[workflow run 42\]\(https:\/\/github\.com\/acme\/dhis2-config\/actions\/runs\/42\)\.$/,
    );
    expect(comment.html).toContain('<a href="https://github.com/acme/dhis2-config/actions/runs/42">');
    // What really changes comes before DHIS2's counts and before any per-program detail.
    expect(comment.paragraphs[1]!.text).toBe(
      '**What really changes: 2 objects in 2 of 2 programs** (0 new, 2 changed).',
    );
    expect(body.indexOf('What really changes')).toBeLessThan(body.indexOf('| program | status |'));

    // The label is not part of the marker: a run without it edits the same comment.
    const again = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN },
      { workspace: dir, env },
    );
    expect(again.code).toBe(0);
    const after = github.comments('acme', 'dhis2-config', pr);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(comments[0]!.id);
    expect(after[0]!.body).toContain('DHIS2 dry run: OK');

    // The merge: restore (labelled production) finds the reviewed comment and restores both programs.
    const sha = 'd'.repeat(40);
    github.addPullForCommit(sha, {
      number: pr,
      state: 'closed',
      merged_at: '2026-11-24T10:00:00Z',
      merge_commit_sha: sha,
    });
    const restore = await runAction(
      { command: 'restore', ...creds(), 'github-token': STUB_TOKEN, label: 'production' },
      { workspace: dir, env: { ...env, GITHUB_EVENT_NAME: 'push', GITHUB_SHA: sha } },
    );
    expect(restore.errors).toEqual([]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`exactly the one pull request #${pr}`);
    const restored = render(restore.summary);
    expectWellFormed(restored, [COVAC, TA]);
    expectCountsTable(restored, 2);
    expect(restored.headings[0]!.text).toMatch(/^✅ DHIS2 restore \(production\): OK on /);
    expect(restored.paragraphs[0]!.text).toMatch(/^For commit `ddddddd` at .* UTC in \[workflow run 42\]/);
    // Each program's notes (the verification) are a list of that program's section, after its heading.
    const verified = restored.listItems.filter((i) => i.startsWith('verified:'));
    expect(verified).toHaveLength(2);
    const rollback = restored.headings.find((h) => h.text === 'Rollback point');
    expect(rollback).toMatchObject({ level: 4, inList: false });
  });

  it('backup, list-backups and download-backup of two programs', async () => {
    const dir = await twoProgramWorkspace();
    const backup = await runAction({ command: 'backup', ...creds(), 'backup-name': 'Render test' }, { workspace: dir });
    expect(backup.code).toBe(0);
    const list = await runAction({ command: 'list-backups', ...creds() }, { workspace: dir });
    expect(list.code).toBe(0);
    const download = await runAction(
      { command: 'download-backup', ...creds(), 'backup-id': 'Render test', 'output-dir': 'restored' },
      { workspace: dir },
    );
    expect(download.code).toBe(0);
    for (const run of [backup, list, download]) {
      const r = render(run.summary);
      for (const p of r.paragraphs) expect(p.text).not.toMatch(/^\|.*\|$/m);
      for (const h of r.headings) expect(h.inList).toBe(false);
      expect(r.headings[0]!.level).toBe(3);
      expect(r.tables.length).toBeGreaterThanOrEqual(1);
    }
    // list-backups: one section per program, each under its heading, each with its table.
    const listed = render(list.summary);
    for (const id of [COVAC, TA]) {
      expect(listed.headings.filter((h) => h.level === 4 && h.text.includes(id))).toHaveLength(1);
    }
    expect(listed.tables.filter((t) => t.headers[0] === 'name')).toHaveLength(2);
  });
});
