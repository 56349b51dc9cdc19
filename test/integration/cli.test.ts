import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

/** The bundled CLI (node dist/cli.js) as a user meets it: help per command, version, typos, plain-text output. */
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const RULES = readFileSync('test/fixtures/dhis2/core_metadata_with_program_and_programrules.json', 'utf8');
const RULES_ID = 'uHi4GZJOD3n';

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function workspace(files: Record<string, string> = {}) {
  const ws = tempWorkspace(files);
  const reports = mkdtempSync(join(tmpdir(), 'cli-reports-'));
  cleanup.push(ws.remove, () => rmSync(reports, { recursive: true, force: true }));
  return { cwd: ws.dir, env: { DHIS2_METADATA_REPORT_DIR: reports } };
}

describe('dhis2-metadata (the bundled CLI)', () => {
  it('--version prints the version of package.json, without node_modules', async () => {
    const r = await runCli(['--version'], workspace());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(`dhis2-metadata ${pkg.version}`);
  });

  it('restore --help and -h list only the flags of restore, with their defaults', async () => {
    for (const args of [
      ['restore', '--help'],
      ['restore', '-h'],
      ['help', 'restore'],
    ]) {
      const r = await runCli(args, workspace());
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: dhis2-metadata restore \[flags\]/);
      expect(r.stdout).toMatch(/--import-timeout <v> +.*\(default: 1800\)/);
      expect(r.stdout).toContain('--file <v>');
      expect(r.stdout).toContain('--allow-plan-change');
      for (const other of ['--commit', '--backup-name', '--output-dir', '--init-tests', '--no-comment']) {
        expect(r.stdout).not.toContain(other);
      }
    }
    const all = await runCli(['-h'], workspace());
    expect(all.stdout).toMatch(/^Usage: dhis2-metadata <command> \[flags\]/);
    expect(all.stdout).toContain('dhis2-metadata <command> --help');
  });

  it('an unknown command or flag says what was probably meant, and where the help is', async () => {
    const command = await runCli(['restor'], workspace());
    expect(command.code).toBe(1);
    expect(command.stdout).toBe('');
    expect(command.stderr).toBe(
      'error: unknown command "restor" (did you mean restore?); the commands: export, dry-run, restore, backup, list-backups, download-backup, check\nRun dhis2-metadata --help for the commands and flags.\n',
    );
    const flag = await runCli(['dry-run', '--sever-url', 'http://x'], workspace());
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe(
      'error: unknown flag --sever-url for dry-run (did you mean --server-url?)\nRun dhis2-metadata dry-run --help for the commands and flags.\n',
    );
    const elsewhere = await runCli(['restore', '--commit'], workspace());
    expect(elsewhere.stderr).toContain('--commit is not a flag of restore (it is one of export)');
  });

  it('after an error: the error only, no Outputs block', async () => {
    const ws = workspace({ 'dhis2-metadata.yml': 'target: nowhere\nprograms:\n  - id: IpHINAT79UW\n' });
    const r = await runCli(['export'], {
      ...ws,
      env: { ...ws.env, DHIS2_SERVER_URL: 'http://127.0.0.1:9', DHIS2_USERNAME: 'a', DHIS2_PASSWORD: 'b' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: dhis2-metadata\.yml:1:9: /);
    expect(r.stdout).not.toContain('Outputs:');
    expect(r.stdout).not.toContain('status');
  });

  it('prints the summary as plain text: aligned tables, no Markdown or HTML; then the outputs', async () => {
    const ws = workspace({
      'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${RULES_ID}\n    file: metadata/rules.json\n`,
      'metadata/rules.json': RULES,
    });
    const r = await runCli(['check'], ws);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^\s*\||\*\*|<\/?(details|summary|br)|^#+ |&#\d+;|`/m);
    expect(r.stdout).toMatch(/^Checks: program rules and indicators\n=+$/m);
    expect(r.stdout).toMatch(/\nOutputs:\n {2}errors: \d+\n/);
    expect(r.stdout).toMatch(/ {2}status: (OK|ERROR)\n/);
  });
});
