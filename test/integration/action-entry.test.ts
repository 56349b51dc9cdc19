import { afterEach, describe, expect, it } from 'vitest';
import { runAction, runCli } from '../helpers/run-action.ts';
import { MINIMAL_CONFIG, tempWorkspace } from '../helpers/workspace.ts';

const PASSWORD = 'Pw-that-must-never-show-9f2';
let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function workspace(files: Record<string, string>) {
  const ws = tempWorkspace(files);
  cleanup.push(ws.remove);
  return ws.dir;
}

const base = { command: 'export', 'server-url': 'http://127.0.0.1:9', username: 'admin', password: PASSWORD };

describe('the bundled action (node dist/index.js, as the runner runs it)', () => {
  it('fails a broken config with one annotated ::error:: line, no stack trace, no secret', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': 'target: another-server\nprogramz:\n  - id: IpHINAT79UW\n' });
    const run = await runAction(base, { workspace: dir });
    expect(run.code).not.toBe(0);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^::error file=dhis2-metadata\.yml,line=2,col=1::.*programz/);
    expect(run.everything).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
    expect(run.everything).not.toContain(PASSWORD);
    expect(run.masked).toEqual([PASSWORD]); // masked in the runner's log before anything printed
  });

  it('names the invalid input when the command is wrong', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': MINIMAL_CONFIG });
    const run = await runAction({ ...base, command: 'deploy' }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      '::error::input command must be one of: export, dry-run, restore, backup, list-backups, download-backup, check (got "deploy")',
    ]);
  });

  it('a server that cannot be reached: one error naming it, exit 1', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': MINIMAL_CONFIG });
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    const run = await runAction({ ...base, command: 'list-backups' }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('http://127.0.0.1:9');
    expect(run.errors[0]).toMatch(/refused|reach/i);
    expect(run.everything).not.toContain(PASSWORD);
  });
});

describe('the bundled CLI (node dist/cli.js)', () => {
  it('prints help listing every command and exits 0', async () => {
    const r = await runCli(['--help'], { cwd: workspace({}) });
    expect(r.code).toBe(0);
    for (const c of ['export', 'dry-run', 'restore', 'backup', 'list-backups', 'download-backup']) {
      expect(r.stdout).toContain(c);
    }
    expect(r.stdout).toContain('DHIS2_TOKEN');
  });

  it('fails a broken config with file:line:column, exit 1, no secret', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': 'target: nowhere\nprograms:\n  - id: IpHINAT79UW\n' });
    const r = await runCli(['export'], {
      cwd: dir,
      env: { DHIS2_SERVER_URL: 'http://127.0.0.1:9', DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: PASSWORD },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: dhis2-metadata\.yml:1:9: .*target/);
    expect(r.stderr).toMatch(/current-server, another-server, hnqis2-enabled-server/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('rejects an unknown flag with a usage hint', async () => {
    const r = await runCli(['export', '--sever-url', 'x'], { cwd: workspace({}) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--help');
  });
});
