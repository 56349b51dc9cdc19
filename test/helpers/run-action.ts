import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** The bundle under test: dist/, or another build of it (DHIS2_METADATA_TEST_DIST, e.g. a private build). */
export const DIST = process.env.DHIS2_METADATA_TEST_DIST
  ? resolve(process.env.DHIS2_METADATA_TEST_DIST)
  : join(ROOT, 'dist');

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed $GITHUB_OUTPUT (heredoc format written by @actions/core). */
  outputs: Record<string, string>;
  summary: string;
  /**
   * Everything the run wrote anywhere we can see, for secret greps, less the `::add-mask::` commands
   * (the runner consumes them to mask its log; they never show).
   */
  everything: string;
  /** Values the run asked the runner to mask. */
  masked: string[];
  /** ::error:: lines on stdout. */
  errors: string[];
}

function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!m) continue;
    const [, name, delimiter] = m;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    out[name as string] = value.join('\n');
  }
  return out;
}

function readTree(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
    .join('\n');
}

/**
 * Runs the bundled action exactly as the GitHub runner does: `node dist/index.js` with INPUT_<NAME>
 * variables (upper case, hyphens kept), $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and $GITHUB_WORKSPACE.
 */
export async function runAction(
  inputs: Record<string, string>,
  options: {
    workspace: string;
    env?: Record<string, string>;
    entry?: string;
    args?: string[];
    /** Sends `signal` (default SIGINT, as a cancelled workflow) once stdout matches `when`. */
    interrupt?: { when: RegExp; signal?: NodeJS.Signals };
  },
): Promise<ActionRun> {
  const runnerTemp = mkdtempSync(join(tmpdir(), 'runner-temp-'));
  const outputFile = join(runnerTemp, 'output.txt');
  const summaryFile = join(runnerTemp, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;

  const entry = options.entry ? join(ROOT, options.entry) : join(DIST, 'index.js');
  const child = spawn(process.execPath, [entry, ...(options.args ?? [])], {
    cwd: options.workspace,
    env,
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (options.interrupt && !signalled && options.interrupt.when.test(stdout)) {
      signalled = true;
      child.kill(options.interrupt.signal ?? 'SIGINT');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'));
  const summary = readFileSync(summaryFile, 'utf8');
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary,
    everything: [
      stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
      stderr,
      readTree(runnerTemp),
      readTree(options.workspace),
    ].join('\n'),
    masked: stdout
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length)),
    errors: stdout.split('\n').filter((l) => l.startsWith('::error')),
  };
}

/** Runs the bundled CLI (`node dist/cli.js ...`) in a folder, with only the given environment. */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(DIST, 'cli.js'), ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  return { code, stdout, stderr };
}
