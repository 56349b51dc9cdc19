/**
 * Issue 17, finding 8c: a program file with a huge option list kept the dry run busy for minutes without a word.
 * - The plan collected the ids the server's export lacks by copying its list for every id: quadratic (a dry run of
 *   100,000 new options took 92 s, 200,000 took 417 s; now 1,000,000 take about 2.5 minutes in all).
 * - A program of PLAN_PROGRESS.objects objects or more says what its plan does, step by step, and every
 *   PLAN_PROGRESS.everyMs while it waits for the server; reading a file of LARGE_FILE_CHARS or more says so.
 * In-process, with a stand-in for the server (what the plan reads of it: the dependency export, the objects it
 * lacks), so that the time measured is the plan's own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analysePlan, draftPlan, PLAN_PROGRESS, programSources } from '../../src/plan/plan.ts';
import { LARGE_FILE_CHARS, parseMetadataText } from '../../src/plan/metadata-file.ts';
import { buildSettings } from '../../src/config/inputs.ts';
import type { Dhis2Client } from '../../src/dhis2/client.ts';
import type { MetadataDocument } from '../../src/metadata/types.ts';
import { MemoryReporter } from '../../src/reporter.ts';
import { fixture } from '../helpers/fixtures.ts';
import { TB_PROGRAM, tbWithManyOptions } from '../helpers/many-options.ts';
import { programsConfig } from '../helpers/program-files.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const defaults = { ...PLAN_PROGRESS };
let cleanup: (() => void)[] = [];
afterEach(() => {
  Object.assign(PLAN_PROGRESS, defaults);
  cleanup.forEach((f) => f());
  cleanup = [];
});

/** The server as the plan reads it: WHO TB as exported, and none of the objects its export lacks (after `delayMs`). */
function server(delayMs: number): { client: Dhis2Client; lookedUp: string[] } {
  const lookedUp: string[] = [];
  const current = fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json');
  const client = {
    system: { version: '2.41.3', minor: 41 },
    getProgramMetadata: async () => current,
    getObjects: async (collection: string, ids: string[]) => {
      lookedUp.push(`${collection}: ${ids.length}`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return [];
    },
  };
  return { client: client as unknown as Dhis2Client, lookedUp };
}

/** A dry run's settings over a workspace holding `doc` as WHO TB's file. */
function settingsWith(doc: MetadataDocument) {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': programsConfig([TB_PROGRAM]) });
  cleanup.push(ws.remove);
  mkdirSync(join(ws.dir, 'metadata'), { recursive: true });
  writeFileSync(join(ws.dir, `metadata/${TB_PROGRAM}.json`), JSON.stringify(doc));
  return buildSettings(
    { command: 'dry-run', 'server-url': 'https://dhis2.example.org', token: 'd2p_progress-test-token' },
    { cwd: ws.dir, env: {} },
  );
}

async function plan(doc: MetadataDocument, delayMs = 0) {
  const settings = settingsWith(doc);
  const reporter = new MemoryReporter();
  const { client, lookedUp } = server(delayMs);
  const [source] = await programSources(client, settings, reporter);
  if (!source) throw new Error('no program');
  const file = await source.load();
  const started = Date.now();
  const planned = analysePlan(await draftPlan(client, settings, source.entry, file));
  return { planned, lines: reporter.lines, lookedUp, ms: Date.now() - started };
}

describe('planning a program with 100,000 options (issue 17, 8c)', () => {
  it('is linear: the ids the server lacks are collected in one pass', async () => {
    const { planned, lookedUp, ms } = await plan(tbWithManyOptions(100_000));
    expect(lookedUp).toEqual(['options: 100000']);
    expect(planned.diff.totals.created).toBe(100_000);
    // Seconds at most (about 3 on a laptop); the copy per id took 85 s.
    expect(ms).toBeLessThan(20_000);
  });

  it('says what it does, step by step, and while it waits for the server', async () => {
    PLAN_PROGRESS.everyMs = 20;
    const { lines } = await plan(tbWithManyOptions(100_000), 120);
    const progress = lines.filter((l) => l.startsWith(`planning ${TB_PROGRAM}:`));
    expect(progress[0]).toMatch(
      new RegExp(`^planning ${TB_PROGRAM}: 101,\\d{3} objects in metadata/${TB_PROGRAM}\\.json…$`),
    );
    const steps = progress.map((l) => l.replace(/ \(\d+ s\)…$|, in \d+ s$/, '').replace(/^planning \w+: /, ''));
    expect(steps).toEqual([
      expect.stringMatching(/^101,\d{3} objects in metadata\/Lt6P15ps7f6\.json…$/),
      'reading the program from the server',
      'building the payload',
      "looking up 100,000 objects the program's export lacks",
      ...steps.filter((s) => s.startsWith('still ')),
      expect.stringMatching(/^comparing 101,\d{3} objects with the server's$/),
      'fingerprinting the plan and what the server holds of it',
      expect.stringMatching(/^planned \(100,000 new, 1 changed, 1,\d{3} unchanged\)$/),
    ]);
    // The lookup lasts several times PLAN_PROGRESS.everyMs: lines while it lasts, all alike.
    expect(steps.filter((s) => s.startsWith('still ')).length).toBeGreaterThanOrEqual(2);
    expect(new Set(steps.filter((s) => s.startsWith('still ')))).toEqual(
      new Set(["still looking up 100,000 objects the program's export lacks"]),
    );
    expect(progress.at(-1)).toMatch(/, in \d+ s$/);
  });

  it('a program of ordinary size plans silently', async () => {
    const { lines } = await plan(tbWithManyOptions(100));
    expect(lines.filter((l) => l.startsWith('planning') || l.startsWith('reading'))).toEqual([]);
  });

  it('the threshold is PLAN_PROGRESS.objects', async () => {
    PLAN_PROGRESS.objects = 1_000;
    const { lines } = await plan(tbWithManyOptions(100));
    expect(lines[0]).toMatch(new RegExp(`^planning ${TB_PROGRAM}: 1,\\d{3} objects in`));
  });
});

describe('reading a large metadata file', () => {
  it(`says so from ${LARGE_FILE_CHARS / 1_000_000} MB`, () => {
    const said: string[] = [];
    const text = JSON.stringify(tbWithManyOptions(120_000));
    expect(text.length).toBeGreaterThanOrEqual(LARGE_FILE_CHARS);
    parseMetadataText(text, 'metadata/big.json', (m) => said.push(m));
    expect(said).toEqual([`reading metadata/big.json (${Math.round(text.length / 1_000_000)} MB of JSON)…`]);

    const small: string[] = [];
    parseMetadataText(JSON.stringify(fixture('who_TB-REG_TRACKER_V1_DHIS2.33.json')), 'metadata/tb.json', (m) =>
      small.push(m),
    );
    expect(small).toEqual([]);
  });
});
