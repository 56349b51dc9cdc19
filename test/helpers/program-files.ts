/**
 * The program files of a test workspace: a config for some programs, a workspace exported from the
 * emulator (as a repo after the nightly job), and an edit of one program's file (as a pull request makes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAction } from './run-action.ts';
import { tempWorkspace } from './workspace.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

/** dhis2-metadata.yml for these programs; `extra` is appended (e.g. a `restore:` block). */
export function programsConfig(programs: string[], target = 'another-server', extra = ''): string {
  return `target: ${target}\nprograms:\n${programs.map((p) => `  - id: ${p}\n`).join('')}${extra}`;
}

/** A workspace with the programs exported by the action (`inputs`: server and credentials); its removal goes to `cleanup`. */
export async function exportedWorkspace(
  inputs: Record<string, string>,
  programs: string[],
  cleanup: (() => void)[],
  options: { target?: string; extra?: string } = {},
): Promise<string> {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': programsConfig(programs, options.target, options.extra) });
  cleanup.push(ws.remove);
  const run = await runAction({ command: 'export', ...inputs }, { workspace: ws.dir });
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  return ws.dir;
}

/** Edits metadata/<program>.json in place; returns the edited document and the file's new lines. */
export function editProgramFile(dir: string, program: string, fn: (doc: Doc) => void): { doc: Doc; lines: string[] } {
  const path = join(dir, `metadata/${program}.json`);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Doc;
  fn(doc);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  writeFileSync(path, text);
  return { doc, lines: text.split('\n') };
}

/** The one COVAC rule condition DHIS2 itself calls invalid (real-2.43.1/expression-verdicts.json). */
export const COVAC_INVALID_RULE = 'ParDbFN1amU';

/**
 * Repairs that rule on the emulator's server (when it has it), so that COVAC exported from it passes the
 * dry run's checks: for tests whose subject is the import, not the checks (those have tests of their own).
 */
export function repairCovacRule(store: {
  get(collection: string, id: string): Record<string, unknown> | undefined;
  put(collection: string, obj: Record<string, unknown>): void;
}): void {
  const rule = store.get('programRules', COVAC_INVALID_RULE);
  if (rule) store.put('programRules', { ...rule, condition: 'true' });
}
