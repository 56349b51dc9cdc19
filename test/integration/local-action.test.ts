import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

/**
 * The action run by GitHub's own local runner, @github/local-action, as the README tells a developer to:
 * `npx @github/local-action . src/main.ts .env`. It imports src/main.ts through tsx (no bundle, no .yml
 * loader), replaces @actions/core with its stand-in and calls the exported run().
 */
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/@github/local-action/bin/local-action.js');
const TB = 'Lt6P15ps7f6';
const PASSWORD = 'Pw-local-action-7d1';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'dev', password: PASSWORD }] });
});
afterAll(async () => {
  await emulator.close();
});
let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

interface LocalRun {
  code: number;
  stdout: string;
  summary: string;
  /** The `::set-output name=…::` lines local-action's @actions/core stand-in prints. */
  outputs: Record<string, string>;
}

async function localAction(files: Record<string, string>, inputs: Record<string, string>) {
  const ws = tempWorkspace(files);
  const temp = mkdtempSync(join(tmpdir(), 'local-action-'));
  cleanup.push(ws.remove, () => rmSync(temp, { recursive: true, force: true }));
  const summary = join(temp, 'summary.md');
  writeFileSync(summary, '');
  const env = [
    `GITHUB_WORKSPACE=${ws.dir}`,
    `RUNNER_TEMP=${temp}`,
    `GITHUB_STEP_SUMMARY=${summary}`,
    ...Object.entries(inputs).map(([k, v]) => `INPUT_${k.toUpperCase()}=${v}`),
  ];
  const dotenv = join(temp, '.env');
  writeFileSync(dotenv, `${env.join('\n')}\n`);
  const child = spawn(process.execPath, [BIN, '.', 'src/main.ts', dotenv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' },
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  const outputs: Record<string, string> = {};
  for (const m of stdout.matchAll(/^::set-output name=([^:]+)::(.*)$/gm)) outputs[m[1] as string] = m[2] as string;
  const run: LocalRun = { code, stdout, summary: readFileSync(summary, 'utf8'), outputs };
  return { run, dir: ws.dir };
}

describe('@github/local-action runs src/main.ts', () => {
  it('check (no server): run() is called, the presets load without a .yml loader, outputs and summary are set', async () => {
    const core = readFileSync(join(ROOT, 'test/fixtures/dhis2/core_metadata_with_program_and_programrules.json'));
    const id = (JSON.parse(core.toString()) as { programs: { id: string }[] }).programs[0]?.id ?? '';
    const { run } = await localAction(
      {
        'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${id}\n    file: metadata/p.json\n`,
        'metadata/p.json': core.toString(),
      },
      { command: 'check' },
    );
    expect(run.stdout).toContain('Running Action');
    expect(run.stdout).not.toMatch(/does not export a run\(\) function|Unknown file extension/);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(run.outputs.errors).toBe('0');
    expect(run.summary).toContain('Checks: program rules and indicators');
  }, 120_000);

  it('export against the emulator writes the program file; a bad config fails with one error and exit 1', async () => {
    const { run, dir } = await localAction(
      { 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${TB}\n` },
      { command: 'export', 'server-url': emulator.url, username: 'dev', password: PASSWORD },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(JSON.parse(run.outputs.files ?? '[]')).toEqual([`metadata/${TB}.json`]);
    const file = JSON.parse(readFileSync(join(dir, `metadata/${TB}.json`), 'utf8')) as { programs: { id: string }[] };
    expect(file.programs.map((p) => p.id)).toEqual([TB]);
    expect(run.stdout).not.toContain(PASSWORD);

    const bad = await localAction(
      { 'dhis2-metadata.yml': `target: nowhere\nprograms:\n  - id: ${TB}\n` },
      { command: 'export', 'server-url': emulator.url, username: 'dev', password: PASSWORD },
    );
    expect(bad.run.code).toBe(1);
    expect(bad.run.stdout.match(/^::error/gm)).toHaveLength(1);
    expect(bad.run.stdout).toMatch(/^::error file=dhis2-metadata\.yml,line=1.*target must be one of/m);
    expect(bad.run.outputs.status).toBe('ERROR');
  }, 180_000);
});
