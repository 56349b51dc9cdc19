/**
 * Issue 17, finding 7: a config "file" that is a FIFO or a character device must not hang the run. The config
 * is read like the metadata files (src/util/paths.ts readTextInside: a regular file only), so each is one
 * ::error:: line and a non-zero exit. Every run here is a child process killed after a few seconds: a read
 * that blocks (a FIFO nobody writes) or never ends (/dev/zero) fails the test instead of hanging it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempWorkspace } from '../helpers/workspace.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = process.env.DHIS2_METADATA_TEST_DIST ? resolve(process.env.DHIS2_METADATA_TEST_DIST) : join(ROOT, 'dist');
/** Far more than a refusal takes (well under a second), far less than the test's timeout. */
const KILL_AFTER_MS = 8_000;

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function workspace(): string {
  const ws = tempWorkspace();
  cleanup.push(ws.remove);
  return ws.dir;
}

function mkfifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
}

/** The bundled action (`check`: no server needed) in `dir`, killed after KILL_AFTER_MS. */
async function check(
  dir: string,
  config?: string,
): Promise<{ code: number | null; killed: boolean; errors: string[] }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    INPUT_COMMAND: 'check',
  };
  if (config !== undefined) env.INPUT_CONFIG = config;
  const child = spawn(process.execPath, [join(DIST, 'index.js')], { cwd: dir, env });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.resume();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  clearTimeout(timer);
  return { code, killed, errors: stdout.split('\n').filter((l) => l.startsWith('::error')) };
}

/** loadConfigFile itself, in a child process (tsx) killed after KILL_AFTER_MS: its error message, or what went wrong. */
function loadInChild(
  absPath: string,
  displayPath: string,
): { message?: string; killed: boolean; status: number | null } {
  const script = `
    import { loadConfigFile } from ${JSON.stringify(join(ROOT, 'src/config/load-config.ts'))};
    try {
      loadConfigFile(${JSON.stringify(absPath)}, ${JSON.stringify(displayPath)});
      console.log(JSON.stringify({ loaded: true }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.constructor.name, message: e.message }));
    }`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    timeout: KILL_AFTER_MS,
    killSignal: 'SIGKILL',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  const killed = run.signal === 'SIGKILL';
  const line = run.stdout.toString().trim().split('\n').at(-1) ?? '';
  let parsed: { name?: string; message?: string } = {};
  try {
    parsed = JSON.parse(line) as { name?: string; message?: string };
  } catch {
    // no answer: killed, or crashed
  }
  expect(parsed.name === undefined || parsed.name === 'ConfigError').toBe(true);
  return { message: parsed.message, killed, status: run.status };
}

describe('a config that is not a regular file (issue 17, 7)', () => {
  it('a FIFO in the workspace: one ::error:: line naming it, a non-zero exit, no hang', async () => {
    const dir = workspace();
    mkfifo(join(dir, 'dhis2-metadata.yml'));
    const run = await check(dir);
    expect(run.killed).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.errors).toEqual([
      '::error::config file dhis2-metadata.yml is not a regular file (set the `config` input)',
    ]);
  });

  it('a FIFO given by the config input, in a folder', async () => {
    const dir = workspace();
    mkfifo(join(dir, 'ci.yml'));
    // A good config beside it changes nothing: the FIFO is what the input names.
    writeFileSync(join(dir, 'dhis2-metadata.yml'), 'target: another-server\nprograms:\n  - id: IpHINAT79UW\n');
    const run = await check(dir, 'ci.yml');
    expect(run.killed).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.errors).toEqual(['::error::config file ci.yml is not a regular file (set the `config` input)']);
  });

  it.each([
    ['/dev/zero as the config input', '/dev/zero', undefined],
    ['a link in the workspace to /dev/zero', 'dhis2-metadata.yml', '/dev/zero'],
  ])('%s: refused in one line', async (_what, config, linkTo) => {
    if (!existsSync('/dev/zero')) return;
    const dir = workspace();
    if (linkTo) symlinkSync(linkTo, join(dir, config));
    const run = await check(dir, config);
    expect(run.killed).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^::error::input config .*(must stay inside the workspace|leads outside the workspace)/,
    );
  });

  describe('loadConfigFile, whoever calls it', () => {
    it('a FIFO: "is not a regular file", without opening it', () => {
      const dir = workspace();
      mkfifo(join(dir, 'dhis2-metadata.yml'));
      const got = loadInChild(join(dir, 'dhis2-metadata.yml'), 'dhis2-metadata.yml');
      expect(got.killed).toBe(false);
      expect(got.message).toBe('config file dhis2-metadata.yml is not a regular file (set the `config` input)');
    });

    it('/dev/zero, a character device: "is not a regular file"', () => {
      if (!existsSync('/dev/zero')) return;
      const got = loadInChild('/dev/zero', 'zero.yml');
      expect(got.killed).toBe(false);
      expect(got.message).toBe('config file zero.yml is not a regular file (set the `config` input)');
    });

    it('a link to /dev/zero: it leads out of the workspace', () => {
      if (!existsSync('/dev/zero')) return;
      const dir = workspace();
      symlinkSync('/dev/zero', join(dir, 'dhis2-metadata.yml'));
      const got = loadInChild(join(dir, 'dhis2-metadata.yml'), 'dhis2-metadata.yml');
      expect(got.killed).toBe(false);
      expect(got.message).toMatch(
        /^config file dhis2-metadata\.yml leads outside the workspace through a symbolic link/,
      );
    });
  });
});
