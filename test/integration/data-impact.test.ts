/**
 * Data already collected (interface.md): the dry run counts, on the server, the records a change would orphan or
 * hide, and fails on them with data-impact: fail (the default). On the reconstruction of the WHO EPI program
 * (test/fixtures/made/epi_registry_program.json) with the tracker data recorded on a real 2.43.1
 * (test/fixtures/dhis2/real-2.43.1/tracker-data-created.json: 3 tracked entities, Sex FEMALE, FEMALE, MALE; one
 * "Birth details" event each, Birth type TWIN, TWIN, SINGLETON), the counts the recordings give.
 */
import { readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_SEED, startEmulator, type Emulator } from '../emulator/index.ts';
import { startGitHubStub, STUB_TOKEN, type GitHubStub } from '../github-stub/server.ts';
import { pullRequestEnv } from '../helpers/pr-event.ts';
import { editProgramFile, exportedWorkspace, repairCovacRule } from '../helpers/program-files.ts';
import { runAction } from '../helpers/run-action.ts';

const EPI = 'SSLpOM0r1U7';
const COVAC = 'yDuAzyqYABS';
const fixture = (p: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8'));
const EPI_DOC = fixture('made/epi_registry_program.json') as Record<string, unknown>;
const TRACKER = fixture('dhis2/real-2.43.1/tracker-data-created.json') as Record<string, unknown>[];

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON
const byId = (doc: Doc, key: string, id: string) => (doc[key] as Doc[]).find((o) => o.id === id) as Doc;

let emulator: Emulator;
let github: GitHubStub;
beforeAll(async () => {
  emulator = await startEmulator({ version: '2.43.1', seed: [...SAMPLE_SEED, EPI_DOC], trackerData: TRACKER });
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
  emulator.clearFaults();
});

const creds = () => ({ 'server-url': emulator.url, username: 'admin', password: 'district' });
const trackerRequests = (from: number) =>
  emulator.requests.slice(from).filter((r) => r.path.startsWith('/api/tracker'));
const warnings = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('::warning'));

/** Asserts that 1-based `line` of the file is the `key` of the object with this id (the key's own line). */
function expectKeyOf(lines: string[], line: number, id: string, key: string): void {
  const text = lines[line - 1] ?? '';
  expect(text.trim().startsWith(`"${key}":`), `line ${line}: ${text}`).toBe(true);
  const indent = text.length - text.trimStart().length;
  const siblings: string[] = [];
  for (const step of [-1, 1]) {
    for (let i = line - 1 + step; i >= 0 && i < lines.length; i += step) {
      const l = lines[i]!;
      const d = l.length - l.trimStart().length;
      if (d < indent) break;
      if (d === indent) siblings.push(l.trim());
    }
  }
  expect(siblings).toContain(`"id": "${id}",`);
}

const removeTwin = (doc: Doc) => {
  const set = byId(doc, 'optionSets', 'jumQ0TEDlf4');
  set.options = (set.options as Doc[]).filter((o) => o.id !== 'FjhEVKfGdT2');
};
const recodeTwin = (doc: Doc) => (byId(doc, 'options', 'FjhEVKfGdT2').code = 'TWINS');
const birthTypeNumber = (doc: Doc) => {
  const de = byId(doc, 'dataElements', 'LtlzGAPWWo8');
  de.valueType = 'NUMBER';
  delete de.optionSet;
};
const recodeFemale = (doc: Doc) => (byId(doc, 'options', 'FKKrOBBFgs1').code = 'F');
const dropBirthType = (doc: Doc) => {
  const stage = byId(doc, 'programStages', 'RcbCl5ww8XY');
  stage.programStageDataElements = (stage.programStageDataElements as Doc[]).filter(
    (p) => p.dataElement.id !== 'LtlzGAPWWo8',
  );
};

describe('dry-run on the EPI program with tracker data', () => {
  it('a change that touches no collected data: data-impact 0, passes, and asks the tracker API nothing', async () => {
    const dir = await exportedWorkspace(creds(), [EPI], cleanup);
    editProgramFile(dir, EPI, (doc) => (byId(doc, 'dataElements', 'LtlzGAPWWo8').formName = 'Type of birth'));
    const from = emulator.requests.length;
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs['data-impact']).toBe('0');
    expect(run.outputs.changes).toBe('1');
    expect(trackerRequests(from)).toEqual([]);
    expect(run.summary).not.toContain('Data already collected');
  }, 60_000);

  it.each([
    [
      'the option TWIN removed from its set',
      2,
      removeTwin,
      'jumQ0TEDlf4',
      'options',
      /2 events in Birth details keep the code TWIN in GEN - Birth type, which is no longer an option of GEN - Birth type/,
    ],
    [
      'the code of TWIN changed',
      2,
      recodeTwin,
      'FjhEVKfGdT2',
      'code',
      /2 events in Birth details keep the old code TWIN .*now TWINS/,
    ],
    [
      "the data element's valueType changed",
      3,
      birthTypeNumber,
      'LtlzGAPWWo8',
      'valueType',
      /3 events in Birth details hold values of GEN - Birth type entered as TEXT, which becomes NUMBER/,
    ],
    [
      "the Sex attribute's option FEMALE recoded",
      2,
      recodeFemale,
      'FKKrOBBFgs1',
      'code',
      /2 tracked entities keep the old code FEMALE in GEN - Sex/,
    ],
    [
      'the data element removed from its stage',
      3,
      dropBirthType,
      'RcbCl5ww8XY',
      'programStageDataElements',
      /3 events in Birth details hold values of GEN - Birth type, which leaves the stage/,
    ],
  ])(
    '%s: fails with %i records, on the changed key; passes with data-impact: warn',
    async (_, records, edit, uid, key, effect) => {
      const dir = await exportedWorkspace(creds(), [EPI], cleanup);
      const { lines } = editProgramFile(dir, EPI, edit);
      const from = emulator.requests.length;
      const before = emulator.store.snapshot();
      const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
      expect(run.code).toBe(1);
      expect(run.outputs['data-impact']).toBe(String(records));
      expect(run.outputs.status).toBe('ERROR');
      const annotations = run.errors.filter((e) => e.includes('file=metadata/'));
      expect(annotations).toHaveLength(1);
      const at = new RegExp(`^::error file=metadata/${EPI}\\.json,line=(\\d+),`).exec(annotations[0]!);
      expect(at).not.toBeNull();
      expectKeyOf(lines, Number(at![1]), uid, key);
      expect(annotations[0]).toMatch(effect);
      expect(run.errors.at(-1)).toMatch(
        new RegExp(`dry run failed: ${records} records already collected on the server`),
      );
      expect(trackerRequests(from).length).toBe(1);
      expect(run.summary).toContain('#### ❌ Data already collected');
      // The title is the gate's verdict, not DHIS2's import status alone.
      expect(run.summary).toMatch(/### ❌ DHIS2 dry run: ERROR on /);
      expect(run.summary).toContain(
        'The import itself would succeed (DHIS2: OK); the dry run fails on the data already collected.',
      );
      expect(emulator.store.snapshot()).toBe(before);
      const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as Doc;
      const entries = report.programs[0].dataImpact as Doc[];
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        program: EPI,
        records,
        field: expect.stringContaining(key === 'code' ? 'code' : key),
      });
      expect(entries[0]!.query).toMatch(/^tracker\/(events|trackedEntities)\?program=SSLpOM0r1U7&/);

      const warned = await runAction({ command: 'dry-run', ...creds(), 'data-impact': 'warn' }, { workspace: dir });
      expect(warned.errors).toEqual([]);
      expect(warned.code).toBe(0);
      expect(warned.outputs['data-impact']).toBe(String(records));
      expect(warnings(warned.stdout).filter((w) => w.includes('file=metadata/'))).toHaveLength(1);
      expect(warned.summary).toContain('#### ⚠️ Data already collected');
      expect(warned.summary).toMatch(/### ✅ DHIS2 dry run: OK on /);
    },
    90_000,
  );

  it('a count the server refuses is no 0: the gate fails naming it, and warn only reports it', async () => {
    const dir = await exportedWorkspace(creds(), [EPI], cleanup);
    editProgramFile(dir, EPI, removeTwin);
    emulator.addFault({
      method: 'GET',
      path: '/api/tracker/events',
      times: Infinity,
      fault: {
        kind: 'status',
        status: 403,
        body: JSON.stringify({
          httpStatus: 'Forbidden',
          httpStatusCode: 403,
          status: 'ERROR',
          message: 'User is not authorized to query across all organisation units',
        }),
      },
    });
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expect(run.code).toBe(1);
    // Never 0: the output says the total is unknown.
    expect(run.outputs['data-impact']).toBe('unknown');
    expect(run.errors.join('\n')).toMatch(
      /could not count the records .*F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS/,
    );
    expect(run.errors.at(-1)).toMatch(/dry run failed: 1 count of the records it touches could not be made/);
    expect(run.summary).toContain('not counted');
    expect(run.summary).toContain(
      '1 count could not be made, so how many records hold data this change would orphan or hide is unknown',
    );
    const warned = await runAction({ command: 'dry-run', ...creds(), 'data-impact': 'warn' }, { workspace: dir });
    expect(warned.code).toBe(0);
    expect(warned.outputs['data-impact']).toBe('unknown');
    expect(warnings(warned.stdout).join('\n')).toMatch(/could not count/);
  }, 90_000);

  it('before 2.41 "any value" cannot be asked: the stage\'s records bound it (none: an exact 0), never read as 0', async () => {
    const old = await startEmulator({ version: '2.40.4', seed: [...SAMPLE_SEED, EPI_DOC], trackerData: TRACKER });
    try {
      const inputs = { 'server-url': old.url, username: 'admin', password: 'district' };
      const dir = await exportedWorkspace(inputs, [EPI], cleanup);
      editProgramFile(dir, EPI, dropBirthType);
      const run = await runAction({ command: 'dry-run', ...inputs }, { workspace: dir });
      expect(run.code).toBe(1);
      expect(run.outputs['data-impact']).toBe('unknown');
      expect(run.errors.join('\n')).toMatch(/DHIS2 before 2.41 cannot count .*at most 3 events \(all of the stage\)/);
      // The one question 2.40 can answer: the stage's events, with ouMode (orgUnitMode came in 2.41).
      expect(old.requests.filter((r) => r.path.startsWith('/api/tracker')).map((r) => r.query)).toEqual([
        expect.objectContaining({ programStage: 'RcbCl5ww8XY', ouMode: 'ALL', totalPages: 'true' }),
      ]);
      expect(old.requests.some((r) => r.path.startsWith('/api/tracker') && 'filter' in r.query)).toBe(false);
      // A stage without events: the bound is an exact 0, and the change passes.
      editProgramFile(dir, EPI, dropBirthType);
      editProgramFile(dir, EPI, (doc) => {
        const stage = byId(doc, 'programStages', 'RcbCl5ww8XY');
        stage.programStageDataElements = JSON.parse(
          JSON.stringify(byId(EPI_DOC as Doc, 'programStages', 'RcbCl5ww8XY').programStageDataElements),
        );
        const vac = byId(doc, 'programStages', 'xEEsAoCaA2Q');
        vac.programStageDataElements = [];
      });
      const empty = await runAction({ command: 'dry-run', ...inputs }, { workspace: dir });
      expect(empty.errors).toEqual([]);
      expect(empty.code).toBe(0);
      expect(empty.outputs['data-impact']).toBe('0');
    } finally {
      await old.close();
    }
  }, 90_000);

  it('a long list of lost codes is split so that no URL exceeds the limit, and summed', async () => {
    // 400 codes of 30 characters each: about 12 KB in one filter; the client keeps URLs under 6,000.
    const codes = Array.from({ length: 400 }, (_, n) => `CODE_${String(n).padStart(25, '0')}`);
    const own = await startEmulator({
      version: '2.43.1',
      seed: [
        ...SAMPLE_SEED,
        {
          ...EPI_DOC,
          options: [
            ...(EPI_DOC.options as Doc[]),
            ...codes.map((code, n) => ({
              id: `LongOpt${String(n).padStart(4, '0')}`,
              code,
              name: code,
              sortOrder: 10 + n,
              optionSet: { id: 'jumQ0TEDlf4' },
            })),
          ],
          optionSets: (EPI_DOC.optionSets as Doc[]).map((set) => ({
            ...set,
            options: [
              ...(set.options as Doc[]),
              ...codes.map((_, n) => ({ id: `LongOpt${String(n).padStart(4, '0')}` })),
            ],
          })),
        },
      ],
      trackerData: TRACKER,
    });
    try {
      const inputs = { 'server-url': own.url, username: 'admin', password: 'district' };
      const dir = await exportedWorkspace(inputs, [EPI], cleanup);
      // The set keeps only SINGLETON: TWIN, TRIPLET and the 400 codes are lost.
      editProgramFile(dir, EPI, (doc) => {
        const set = byId(doc, 'optionSets', 'jumQ0TEDlf4');
        set.options = [{ id: 'b5jZMQObDDM' }];
      });
      const run = await runAction({ command: 'dry-run', ...inputs, 'data-impact': 'warn' }, { workspace: dir });
      expect(run.errors).toEqual([]);
      expect(run.outputs['data-impact']).toBe('2');
      const counts = own.requests.filter((r) => r.path === '/api/tracker/events');
      expect(counts.length).toBeGreaterThan(1);
      const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as Doc;
      for (const q of (report.programs[0].dataImpact[0].query as string).split(' + ')) {
        expect(`${own.url}/api/${q}`.length).toBeLessThanOrEqual(6000);
      }
    } finally {
      await own.close();
    }
  }, 90_000);
});

describe('the comment with two programs and several changes', () => {
  it('renders as a table in GitHub, first after what really changes', async () => {
    // One COVAC tracked entity with Sex FEMALE: the shared Sex option set strands data in both programs.
    const posted = await fetch(`${emulator.url}/api/tracker?async=false&importStrategy=CREATE`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Basic ${Buffer.from('admin:district').toString('base64')}`,
      },
      body: JSON.stringify({
        trackedEntities: [
          {
            trackedEntity: 'CovTe000001',
            trackedEntityType: 'MCPQUTHX1Ze',
            orgUnit: 'ImspTQPwCqd',
            attributes: [{ attribute: 'oindugucx72', value: 'FEMALE' }],
            enrollments: [
              {
                enrollment: 'CovEn000001',
                program: COVAC,
                orgUnit: 'ImspTQPwCqd',
                enrolledAt: '2026-06-04',
                occurredAt: '2026-06-04',
                status: 'ACTIVE',
              },
            ],
          },
        ],
      }),
    });
    expect(posted.status).toBe(200);
    const dir = await exportedWorkspace(creds(), [EPI, COVAC], cleanup);
    editProgramFile(dir, EPI, (doc) => {
      removeTwin(doc);
      recodeFemale(doc);
    });
    editProgramFile(dir, COVAC, recodeFemale);
    const env = pullRequestEnv(dir, github.url);
    const run = await runAction(
      { command: 'dry-run', ...creds(), 'github-token': STUB_TOKEN, 'data-impact': 'warn' },
      { workspace: dir, env },
    );
    expect(run.errors).toEqual([]);
    expect(run.outputs['data-impact']).toBe('5');
    const body = github.comments('acme', 'dhis2-config', 7).at(-1)!.body;
    const html = new MarkdownIt({ html: true }).render(body);
    const section = html.slice(html.indexOf('Data already collected'));
    const table = section.slice(section.indexOf('<table>'), section.indexOf('</table>'));
    expect(table.match(/<tr>/g)).toHaveLength(4); // the header and three changes
    expect(table).toContain('2 tracked entities');
    expect(table).toContain('1 tracked entity');
    expect(table).toContain('2 events');
    // First after the sentence on what really changes, before DHIS2's counts.
    expect(html.indexOf('Data already collected')).toBeLessThan(html.indexOf('importMode=VALIDATE'));
    expect(html).toContain('records its user cannot see are not counted');
  }, 90_000);
});

describe('restore', () => {
  it('imports the reviewed change and reports the records it strands (data-impact output, dataImpact)', async () => {
    const own = await startEmulator({ version: '2.43.1', seed: [...SAMPLE_SEED, EPI_DOC], trackerData: TRACKER });
    try {
      const inputs = { 'server-url': own.url, username: 'admin', password: 'district' };
      const dir = await exportedWorkspace(inputs, [EPI], cleanup);
      editProgramFile(dir, EPI, recodeTwin);
      const run = await runAction({ command: 'restore', ...inputs }, { workspace: dir });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.outputs['data-impact']).toBe('2');
      expect(own.store.get('options', 'FjhEVKfGdT2')?.code).toBe('TWINS');
      const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as Doc;
      expect(report.programs[0].dataImpact).toMatchObject([{ change: 'option-code-changed', records: 2 }]);
      expect(run.stdout).toContain('2 events in Birth details keep the old code TWIN');
    } finally {
      await own.close();
    }
  }, 90_000);
});
