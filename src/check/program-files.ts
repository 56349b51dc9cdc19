/**
 * What `check` and the checks of `dry-run` read from the workspace: the program files of the run, the rule
 * test files, and (for `check` with fail-on new) the same program files before the change, from git. Writes
 * the JUnit file of the rule tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/types.ts';
import { ConfigError, isUserError } from '../errors.ts';
import { readPullRequest } from '../github/event.ts';
import { filesAtRevision } from '../github/git.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import { parseMetadataText, readMetadataFile } from '../plan/metadata-file.ts';
import type { Baseline } from './baseline.ts';
import { junitXml } from './junit.ts';
import { findTestFiles, readTestFile, type RuleTestFile } from './rule-test-file.ts';
import { evaluateBefore, type CheckInput, type CheckResult } from './run-checks.ts';

/** The program files of the run, read from the workspace. */
export function checkInputs(settings: Settings, options: { skipUnreadable?: boolean } = {}): CheckInput[] {
  return [...eachCheckInput(settings, options)];
}

/** The programs' files one at a time (`checkInputs` without holding them all). */
export function* eachCheckInput(settings: Settings, options: { skipUnreadable?: boolean } = {}): Generator<CheckInput> {
  for (const entry of settings.programs) {
    let file;
    try {
      file = readMetadataFile(settings.workspace, entry.file, `the file of program ${entry.id} in the config`);
    } catch (e) {
      // dry-run reports an unreadable file as that program's own error, after the checks of the others.
      if (options.skipUnreadable && isUserError(e)) continue;
      throw e;
    }
    yield { id: entry.id, file: entry.file, text: file.text, doc: file.doc };
  }
}

/**
 * The rule test files of the config (`tests:`, default `rule-tests/`) for the programs of the run. A file that
 * names a program not in the config is an error on its `program:` line.
 */
export function checkTests(settings: Settings): RuleTestFile[] {
  const known = new Set(settings.config.programs.map((p) => p.id));
  const selected = new Set(settings.programs.map((p) => p.id));
  const tests = findTestFiles(settings.workspace, settings.config.tests).map((f) =>
    readTestFile(settings.workspace, f),
  );
  for (const t of tests) {
    if (!known.has(t.program)) {
      throw new ConfigError(
        `${t.file}: program ${t.program} is not a program of ${settings.config.path} (its programs: ${[...known].join(', ')})`,
        { file: t.file, line: t.programLine },
      );
    }
  }
  return tests.filter((t) => selected.has(t.program));
}

/** Writes the JUnit file of the rule tests into the report folder; returns its path. */
export function writeJunit(settings: Settings, result: CheckResult): string {
  mkdirSync(settings.reportDir, { recursive: true });
  const path = join(settings.reportDir, 'rule-tests.junit.xml');
  const tests = result.programs.flatMap((p) => p.tests);
  writeFileSync(path, junitXml(tests, result.engineMs / 1000));
  return path;
}

/** "Before the change" for `check`, or why there is none (then every problem counts). */
export interface GitBaseline {
  baseline?: Baseline;
  strictBecause?: string;
}

/**
 * The program files before the change, for `check` with fail-on new: at the `baseline` input's revision, else
 * on a pull_request event at its base commit (as `git diff base...head` sees it: src/github/git.ts
 * filesAtRevision). A file not there then is a new program: all of its problems are the change's.
 */
export async function gitBaseline(settings: Settings, inputs: CheckInput[]): Promise<GitBaseline> {
  if (settings.failOn === 'all') return {};
  const pr = settings.baseline ? undefined : readPullRequest(settings.github);
  const rev = settings.baseline ?? pr?.baseSha;
  if (!rev) {
    const why = pr
      ? `the ${settings.github.eventName} event names no base commit`
      : settings.github.eventName
        ? `a ${settings.github.eventName} event has no base to compare with (set the baseline input to a commit)`
        : 'no --baseline REF was given';
    return { strictBecause: why };
  }
  let at;
  try {
    at = await filesAtRevision(
      settings.workspace,
      rev,
      inputs.map((i) => i.file),
    );
  } catch (e) {
    if (!isUserError(e)) throw e;
    return { strictBecause: `the files before the change can't be read from git: ${e.message}` };
  }
  const docs = new Map<string, MetadataDocument | null | string>();
  for (const input of inputs) {
    const text = at.files.get(input.file);
    if (text === null || text === undefined) {
      docs.set(input.id, null);
      continue;
    }
    try {
      docs.set(input.id, parseMetadataText(text, input.file).doc);
    } catch (e) {
      if (!isUserError(e)) throw e;
      docs.set(input.id, `its file at ${at.commit.slice(0, 7)} is not readable metadata`);
    }
  }
  const before = await evaluateBefore(docs);
  const short = at.commit.slice(0, 7);
  const where = pr ? `at the base commit ${short}` : `at ${rev === at.commit ? short : `${rev} (${short})`}`;
  return { baseline: { where, programs: before } };
}
