/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers of arbitrary shape */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, errorsOf, reportOf, withEmulator, type Res } from './helpers.ts';
import type { Emulator } from './index.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/dhis2/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const H2 = 'XY5mWAnxSoN';

/** A valid new option set with one option. */
function validPayload(suffix = 'A'): Record<string, unknown> {
  return {
    optionSets: [
      {
        id: `NewOptSet0${suffix}`,
        name: `New option set ${suffix}`,
        valueType: 'TEXT',
        options: [{ id: `NewOption0${suffix}` }],
      },
    ],
    options: [
      {
        id: `NewOption0${suffix}`,
        name: `Option ${suffix}`,
        code: `OPT_${suffix}`,
        optionSet: { id: `NewOptSet0${suffix}` },
      },
    ],
  };
}

/** The failing payload of the real 2.42/2.43 report in test/fixtures (without the permission error we do not emulate). */
function fixtureErrorPayload(): Record<string, unknown> {
  return {
    trackedEntityTypes: [{ id: 'ER5qgJDCfUh', name: 'FCA:Facility' }],
    programStages: [
      {
        id: 'VdBma23iRTw',
        name: 'Profile logs',
        program: { id: H2 },
        programStageDataElements: [{ id: 'xH7ytgsoJ3d', dataElement: { id: 'jmUQ1B95ZP9' } }],
      },
    ],
    dataElements: [
      { id: 'Wno4M1rmwHr', name: 'FCA_Email', shortName: 'FCA_Email', aggregationType: 'NONE', domainType: 'TRACKER' },
    ],
  };
}

const post = (emu: Emulator, body: unknown, query = ''): Promise<Res> =>
  call(emu, `/api/metadata${query ? `?${query}` : ''}`, { body });

/** The key structure of a JSON value, to compare report shapes with the real ones. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? shape(v[0]) : [];
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  return typeof v;
}

describe('POST /api/metadata report shapes by version', () => {
  const cases: {
    version: string;
    path?: string;
    wrapped: boolean;
    responseType?: string;
    message?: string;
  }[] = [
    { version: '2.36.13', wrapped: false },
    { version: '2.37.9', wrapped: false },
    { version: '2.39.1', wrapped: true, responseType: 'ImportReport' },
    { version: '2.39.1', path: '/api/37/metadata', wrapped: false, responseType: 'ImportReport' },
    { version: '2.41.3', wrapped: true, responseType: 'ImportReport' },
    { version: '2.42.1', wrapped: true, responseType: 'ImportReportWebMessageResponse' },
    { version: '2.42.1', path: '/api/37/metadata', wrapped: true, responseType: 'ImportReportWebMessageResponse' },
    { version: '2.42.5', wrapped: true, responseType: 'ImportReport' },
    { version: '2.43.0', wrapped: true, responseType: 'ImportReportWebMessageResponse' },
  ];
  for (const c of cases) {
    it(`${c.version} ${c.path ?? '/api/metadata'}: ${c.wrapped ? 'wrapped' : 'bare'} report`, async () => {
      await withEmulator({ version: c.version }, async (emu) => {
        const path = c.path ?? '/api/metadata';
        const ok = await call(emu, path, { body: validPayload() });
        const bad = await call(emu, path, { body: fixtureErrorPayload() });
        expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
        if (c.wrapped) {
          expect(ok.status).toBe(200);
          expect(ok.json).toMatchObject({ httpStatus: 'OK', httpStatusCode: 200, status: 'OK' });
          expect(ok.json.response.status).toBe('OK');
          expect(bad.status).toBe(409);
          expect(bad.json).toMatchObject({
            httpStatus: 'Conflict',
            httpStatusCode: 409,
            status: 'WARNING',
            message: 'One or more errors occurred, please see full details in import report.',
          });
          expect(bad.json.response.status).toBe('ERROR');
          expect(bad.json.response.responseType).toBe(c.responseType);
          expect(ok.json.response.responseType).toBe(c.responseType);
        } else {
          // Bare reports are always HTTP 200, whatever the status.
          expect(ok.status).toBe(200);
          expect(bad.status).toBe(200);
          expect(ok.json.httpStatus).toBeUndefined();
          expect(bad.json.status).toBe('ERROR');
          expect(bad.json.responseType).toBe(c.responseType);
        }
        expect(reportOf(ok).stats).toEqual({ created: 2, updated: 0, deleted: 0, ignored: 0, total: 2 });
        expect(reportOf(bad).stats).toEqual({ created: 0, updated: 0, deleted: 0, ignored: 3, total: 3 });
      });
    });
  }

  it('2.42.1 reports match the real 2.42/2.43 WebMessages in test/fixtures, error reports included', async () => {
    const real409 = fixture('importreport_webmessage_409_E4000_E5002_E3012.json') as any;
    const real200 = fixture('importreport_webmessage_200_success.json') as any;
    await withEmulator({ version: '2.42.1' }, async (emu) => {
      const ok = await post(emu, validPayload());
      const bad = await post(emu, fixtureErrorPayload());
      expect(shape(ok.json)).toEqual(shape(real200));
      expect(shape(bad.json)).toEqual(shape(real409));
      const ours = bad.json.response.typeReports.flatMap((t: any) => t.objectReports);
      const theirs = real409.response.typeReports.flatMap((t: any) => t.objectReports);
      for (const real of theirs) {
        const mine = ours.find((o: any) => o.uid === real.uid);
        // Everything but the permission error (E3012) we do not emulate.
        const expected = { ...real, errorReports: real.errorReports.filter((e: any) => e.errorCode !== 'E3012') };
        expect(mine).toEqual(expected);
      }
    });
  });

  it('2.36 bare reports carry importParams like the dhis2-docs example and older messages end with a period', async () => {
    const docs = fixture('importreport_docs_plain_success_pre238.json') as any;
    await withEmulator({ version: '2.36.13' }, async (emu) => {
      const ok = await post(emu, validPayload());
      expect(Object.keys(ok.json)).toEqual(Object.keys(docs));
      expect(Object.keys(ok.json.importParams).sort()).toEqual(Object.keys(docs.importParams).sort());
      expect(ok.json.importParams).toMatchObject({
        importMode: 'COMMIT',
        importStrategy: 'CREATE_AND_UPDATE',
        username: 'admin',
      });
      const bad = await post(emu, fixtureErrorPayload());
      const messages = errorsOf(bad.json).map((e) => e.message);
      expect(messages).toContain('Missing required property `valueType`.');
      // Not every text had a period: E4014's never did.
      const invalid = { id: '11111111111', name: 'Bad id', valueType: 'TEXT' };
      expect(errorsOf(reportOf(await post(emu, { optionSets: [invalid] }))).map((e) => e.message)).toEqual([
        'Invalid UID `11111111111` for property `OptionSet`',
      ]);
      expect(errorsOf(bad.json).every((e) => !('args' in e))).toBe(true);
    });
  });
});

describe('POST /api/metadata semantics', () => {
  it('VALIDATE never changes the store, even for a valid payload; the stats say what would happen', async () => {
    await withEmulator({}, async (emu) => {
      const before = emu.store.snapshot();
      const exported = (await call(emu, `/api/programs/${H2}/metadata.json`)).json;
      const r = await post(emu, { ...exported, ...validPayload() }, 'importMode=VALIDATE');
      expect(r.status).toBe(200);
      const report = reportOf(r);
      expect(report.status).toBe('OK');
      expect(report.stats.created).toBe(2);
      expect(report.stats.updated).toBeGreaterThan(50);
      expect(emu.store.snapshot() === before, 'the store changed').toBe(true);
      // And an invalid one.
      await post(emu, fixtureErrorPayload(), 'importMode=VALIDATE&atomicMode=NONE');
      expect(emu.store.snapshot() === before, 'the store changed').toBe(true);
    });
  });

  it('importMode=validate (lower case) is not VALIDATE: unknown enum values fall back to COMMIT', async () => {
    await withEmulator({}, async (emu) => {
      const r = await post(emu, validPayload(), 'importMode=validate&importStrategy=create_and_update&atomicMode=none');
      expect(reportOf(r).stats.created).toBe(2);
      expect(emu.store.get('optionSets', 'NewOptSet0A')).toMatchObject({ name: 'New option set A' });
      expect(emu.requests.at(-1)!.query).toMatchObject({ importMode: 'validate' });
    });
  });

  it('atomicMode=ALL imports nothing when one object fails; NONE imports the valid ones with WARNING', async () => {
    for (const atomicMode of ['ALL', 'NONE']) {
      await withEmulator({ version: '2.41.3' }, async (emu) => {
        const payload = { ...validPayload(), ...fixtureErrorPayload() };
        const r = await post(emu, payload, `atomicMode=${atomicMode}`);
        const report = reportOf(r);
        expect(r.status).toBe(409);
        if (atomicMode === 'ALL') {
          expect(report.status).toBe('ERROR');
          expect(report.stats).toEqual({ created: 0, updated: 0, deleted: 0, ignored: 5, total: 5 });
          expect(emu.store.get('optionSets', 'NewOptSet0A')).toBeUndefined();
        } else {
          expect(report.status).toBe('WARNING');
          expect(report.stats).toEqual({ created: 2, updated: 0, deleted: 0, ignored: 3, total: 5 });
          expect(emu.store.get('optionSets', 'NewOptSet0A')).toBeDefined();
          expect(emu.store.get('trackedEntityTypes', 'ER5qgJDCfUh')).toBeUndefined();
        }
      });
    }
  });

  it('E5002 names the reference, the object and the association, for top-level and embedded objects', async () => {
    await withEmulator({ version: '2.42.5' }, async (emu) => {
      const payload = {
        programs: [
          {
            id: 'NewProgr01a',
            name: 'New program',
            shortName: 'New program',
            programType: 'WITHOUT_REGISTRATION',
            categoryCombo: { id: 'MissingCC01' },
            programStages: [{ id: 'NewStage01a' }],
            attributeValues: [{ value: 'x', attribute: { id: 'MissingAt01' } }],
            organisationUnits: [{ id: 'ImspTQPwCqd' }, { id: 'MissingOU01' }],
          },
        ],
        programStages: [
          {
            id: 'NewStage01a',
            name: 'Stage',
            program: { id: 'NewProgr01a' },
            programStageDataElements: [{ id: 'NewPsde001a', dataElement: { id: 'MissingDE01' } }],
          },
        ],
      };
      const report = reportOf(await post(emu, payload));
      const messages = errorsOf(report)
        .map((e) => e.message)
        .sort();
      expect(messages).toEqual(
        [
          'Invalid reference [MissingCC01] (CategoryCombo) on object New program [NewProgr01a] (Program) for association `categoryCombo`',
          'Invalid reference [MissingAt01] (Attribute) on object New program [NewProgr01a] (Program) for association `attributeValues`',
          'Invalid reference [MissingOU01] (OrganisationUnit) on object New program [NewProgr01a] (Program) for association `organisationUnits`',
          'Invalid reference [MissingDE01] (DataElement) on object [NewPsde001a] (ProgramStageDataElement) for association `dataElement`',
        ].sort(),
      );
      expect(errorsOf(report).every((e) => e.errorCode === 'E5002')).toBe(true);
    });
  });

  it('E4014 for an invalid UID and E4000 for missing required properties, with their classes', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const report = reportOf(
        await post(emu, {
          dataElements: [
            {
              id: '11111111111',
              name: 'x',
              shortName: 'x',
              valueType: 'TEXT',
              aggregationType: 'NONE',
              domainType: 'TRACKER',
            },
          ],
          programs: [{ id: 'NoNameProg1', programType: 'WITH_REGISTRATION' }],
        }),
      );
      const errors = errorsOf(report);
      expect(errors).toContainEqual(
        expect.objectContaining({
          errorCode: 'E4014',
          message: 'Invalid UID `11111111111` for property `DataElement`',
        }),
      );
      expect(
        errors
          .filter((e) => e.errorCode === 'E4000')
          .map((e) => e.message)
          .sort(),
      ).toEqual(['Missing required property `name`', 'Missing required property `shortName`']);
      const klasses = report.typeReports.map((t: any) => t.klass).sort();
      expect(klasses).toEqual(['org.hisp.dhis.dataelement.DataElement', 'org.hisp.dhis.program.Program']);
    });
  });

  it('E5003 when a unique property is already held by another object; an update may keep its own value', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const existing = emu.store.get('dataElements', 'VqBfZjZhKkU')!;
      const clash = {
        id: 'NewDataEl01',
        name: existing.name,
        shortName: 'Unique short name',
        valueType: 'TEXT',
        aggregationType: 'NONE',
        domainType: 'TRACKER',
      };
      const report = reportOf(await post(emu, { dataElements: [clash] }));
      expect(errorsOf(report).map((e) => e.message)).toEqual([
        `Property \`name\` with value \`${existing.name as string}\` on object ${existing.name as string} [NewDataEl01] (DataElement) already exists on object VqBfZjZhKkU`,
      ]);
      // mainId is the holder, as UniquenessCheck sets it.
      expect(errorsOf(report)[0]).toMatchObject({ mainId: 'VqBfZjZhKkU', errorProperty: 'name' });
      // Renaming the holder in the same payload does not free the value: the preheat holds the stored values.
      const both = reportOf(await post(emu, { dataElements: [clash, { ...existing, name: 'Renamed' }] }));
      expect(errorsOf(both).map((e) => [e.errorCode, (e as any).mainId])).toEqual([['E5003', 'VqBfZjZhKkU']]);
      // Two steps do it.
      expect(reportOf(await post(emu, { dataElements: [{ ...existing, name: 'Renamed' }] })).status).toBe('OK');
      expect(reportOf(await post(emu, { dataElements: [clash] })).status).toBe('OK');
      expect(reportOf(await post(emu, { dataElements: [emu.store.get('dataElements', 'NewDataEl01')] })).status).toBe(
        'OK',
      );
    });
  });

  it('E5003 also between objects of the payload: the first holder keeps the value', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const de = (id: string, shortName: string): Record<string, unknown> => ({
        id,
        name: 'Same new name',
        shortName,
        valueType: 'TEXT',
        aggregationType: 'NONE',
        domainType: 'TRACKER',
      });
      const r = await post(emu, { dataElements: [de('NewDataEl01', 'Short 1'), de('NewDataEl02', 'Short 2')] });
      const report = reportOf(r);
      expect(r.status).toBe(409);
      expect(errorsOf(report)).toEqual([
        expect.objectContaining({
          errorCode: 'E5003',
          mainId: 'NewDataEl01',
          message:
            'Property `name` with value `Same new name` on object Same new name [NewDataEl02] (DataElement) already exists on object NewDataEl01',
        }),
      ]);
      expect(report.typeReports[0].objectReports.map((o: any) => o.index)).toEqual([1]);
      expect(emu.store.get('dataElements', 'NewDataEl01')).toBeUndefined();
    });
  });

  it('E5004: a second object with an id already in the payload is dropped with an error', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const first = { id: 'NewOptSet0D', name: 'First', valueType: 'TEXT' };
      const second = { id: 'NewOptSet0D', name: 'Second', valueType: 'TEXT' };
      const r = await post(emu, { optionSets: [first, second] });
      const report = reportOf(r);
      expect(report.status).toBe('ERROR');
      expect(errorsOf(report)).toEqual([
        {
          message:
            'Id `NewOptSet0D` for type `class org.hisp.dhis.option.OptionSet` exists on more than 1 object in the payload, removing all but the first found',
          args: ['NewOptSet0D', 'class org.hisp.dhis.option.OptionSet'],
          mainKlass: 'org.hisp.dhis.option.OptionSet',
          mainId: 'NewOptSet0D',
          errorCode: 'E5004',
          errorProperty: 'id',
          errorProperties: ['NewOptSet0D', 'class org.hisp.dhis.option.OptionSet'],
        },
      ]);
      expect(report.typeReports[0].objectReports.map((o: any) => o.index)).toEqual([1]);
      expect(emu.store.get('optionSets', 'NewOptSet0D')).toBeUndefined();
      // With atomicMode=NONE the first one is imported, the second ignored.
      const partial = reportOf(await post(emu, { optionSets: [first, second] }, 'atomicMode=NONE'));
      expect(partial.stats).toEqual({ created: 1, updated: 0, deleted: 0, ignored: 1, total: 2 });
      expect(emu.store.get('optionSets', 'NewOptSet0D')).toMatchObject({ name: 'First' });
    });
  });

  it('a default category UID satisfies only a reference of its own type', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const de = {
        id: 'NewDataEl01',
        name: 'Uses defaults',
        shortName: 'Uses defaults',
        valueType: 'TEXT',
        aggregationType: 'NONE',
        domainType: 'TRACKER',
        categoryCombo: { id: 'bjDvmb4bfuf' },
        optionSet: { id: 'bjDvmb4bfuf' },
      };
      const report = reportOf(await post(emu, { dataElements: [de] }));
      expect(errorsOf(report).map((e) => e.message)).toEqual([
        'Invalid reference [bjDvmb4bfuf] (OptionSet) on object Uses defaults [NewDataEl01] (DataElement) for association `optionSet`',
      ]);
      const { optionSet: _o, ...withoutOptionSet } = de;
      expect(reportOf(await post(emu, { dataElements: [withoutOptionSet] })).status).toBe('OK');
    });
  });

  it('importStrategy CREATE refuses existing objects, UPDATE missing ones, DELETE removes with its children', async () => {
    await withEmulator({}, async (emu) => {
      const existing = { optionSets: [emu.store.get('optionSets', 'DfyWt0mZIhj')] };
      const create = reportOf(await post(emu, existing, 'importStrategy=CREATE'));
      expect(errorsOf(create).map((e) => e.errorCode)).toEqual(['E5000']);
      const update = reportOf(await post(emu, validPayload('U'), 'importStrategy=UPDATE'));
      expect(errorsOf(update).map((e) => e.errorCode)).toEqual(['E5001', 'E5001']);

      const rules = emu.store.list('programRules').filter((r: any) => r.program.id === H2);
      const variables = emu.store.list('programRuleVariables').filter((r: any) => r.program.id === H2);
      const actionIds = rules.flatMap((r: any) => r.programRuleActions.map((a: any) => a.id));
      expect(actionIds.length).toBeGreaterThan(0);
      const del = await post(
        emu,
        { programRules: rules.map((r) => ({ id: r.id })), programRuleVariables: variables.map((r) => ({ id: r.id })) },
        'importStrategy=DELETE',
      );
      expect(reportOf(del).stats.deleted).toBe(rules.length + variables.length);
      for (const r of rules) expect(emu.store.get('programRules', r.id as string)).toBeUndefined();
      for (const a of actionIds) expect(emu.store.get('programRuleActions', a)).toBeUndefined();
      // A data element still placed in a stage cannot be deleted (E4030).
      const inUse = reportOf(await post(emu, { dataElements: [{ id: 'VqBfZjZhKkU' }] }, 'importStrategy=DELETE'));
      expect(errorsOf(inUse).map((e) => e.errorCode)).toEqual(['E4030']);
      expect(emu.store.get('dataElements', 'VqBfZjZhKkU')).toBeDefined();
    });
  });

  it('keeps program stage data elements embedded in the stage, also when sent top-level', async () => {
    await withEmulator({}, async (emu) => {
      const stage = emu.store.get('programStages', 'H0XIPNI7s51') as any;
      const before = stage.programStageDataElements.length;
      const r = await post(emu, {
        programStageDataElements: [
          { programStage: { id: 'H0XIPNI7s51' }, dataElement: { id: 'NAaHST5ZDTE' }, sortOrder: 9 },
        ],
      });
      expect(reportOf(r).typeReports[0].klass).toBe('org.hisp.dhis.program.ProgramStageDataElement');
      expect(reportOf(r).stats.created).toBe(1);
      const after = emu.store.get('programStages', 'H0XIPNI7s51') as any;
      expect(after.programStageDataElements).toHaveLength(before + 1);
      expect(emu.store.collections()).not.toContain('programStageDataElements');
    });
  });

  it('2.41+ resets the sharing of an object imported without sharing.public; 2.40 keeps it', async () => {
    for (const [version, reset] of [
      ['2.40.3', false],
      ['2.41.3', true],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        const program = emu.store.get('programs', H2)!;
        const before = program.sharing as any;
        expect(Object.keys(before.userGroups).length).toBeGreaterThan(0);
        const { sharing: _s, ...withoutSharing } = program;
        const r = await post(emu, {
          programs: [{ ...withoutSharing, publicAccess: 'rwrw----', userGroupAccesses: [] }],
        });
        expect(reportOf(r).status).toBe('OK');
        const after = emu.store.get('programs', H2)!.sharing as any;
        if (reset) {
          expect(after).toEqual({
            owner: 'M5zQapPyTZI',
            external: false,
            public: 'rw------',
            users: {},
            userGroups: {},
          });
        } else {
          // Up to 2.40 the legacy keys are read.
          expect(after.public).toBe('rwrw----');
          expect(after.userGroups).toEqual({});
        }
      });
    }
  });

  it('an unknown user or group in sharing is E5002 unless skipSharing=true', async () => {
    await withEmulator({}, async (emu) => {
      const payload = validPayload('S');
      (payload.optionSets as any)[0].sharing = {
        public: 'rw------',
        users: { NoSuchUser1: { id: 'NoSuchUser1', access: 'rw------' } },
        userGroups: { NoSuchGrp01: { id: 'NoSuchGrp01', access: 'r-------' } },
      };
      const refused = reportOf(await post(emu, payload));
      expect(
        errorsOf(refused)
          .map((e) => e.message)
          .sort(),
      ).toEqual([
        'Invalid reference [NoSuchGrp01] (UserGroup) on object New option set S [NewOptSet0S] (OptionSet) for association `userGroupAccesses`',
        'Invalid reference [NoSuchUser1] (User) on object New option set S [NewOptSet0S] (OptionSet) for association `userAccesses`',
      ]);
      const skipped = reportOf(await post(emu, payload, 'skipSharing=true'));
      expect(skipped.status).toBe('OK');
      expect((emu.store.get('optionSets', 'NewOptSet0S')!.sharing as any).users).toEqual({});
    });
  });

  it('answers 415 for a non-JSON content type and 400 for a body that is not a JSON object', async () => {
    await withEmulator({}, async (emu) => {
      const text = await call(emu, '/api/metadata', { body: '{}', contentType: 'text/plain' });
      expect(text.status).toBe(415);
      const notJson = await call(emu, '/api/metadata', { body: 'not json' });
      expect(notJson.status).toBe(400);
      expect(notJson.json).toMatchObject({ httpStatusCode: 400, status: 'ERROR' });
    });
  });
});

describe('async metadata import', () => {
  it('answers the job, then exposes notifications and the import report', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const r = await post(emu, validPayload(), 'async=true');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ httpStatus: 'OK', status: 'OK', response: { jobType: 'METADATA_IMPORT' } });
      const job = r.json.response;
      expect(job.relativeNotifierEndpoint).toBe(`/api/system/tasks/METADATA_IMPORT/${job.id}`);
      // The import has not run yet.
      expect(emu.store.get('optionSets', 'NewOptSet0A')).toBeUndefined();
      let tasks: any[] = [];
      for (let i = 0; i < 100 && !tasks.some((t) => t.completed); i++) {
        tasks = (await call(emu, `/api/system/tasks/METADATA_IMPORT/${job.id}`)).json;
        if (!tasks.some((t) => t.completed)) await new Promise((res) => setTimeout(res, 10));
      }
      expect(tasks[0].completed).toBe(true);
      expect(tasks.at(-1).completed).toBe(false);
      for (const t of tasks) expect(t).toMatchObject({ level: 'INFO', category: 'METADATA_IMPORT' });
      const summary = await call(emu, `/api/system/taskSummaries/METADATA_IMPORT/${job.id}`);
      expect(summary.status).toBe(200);
      expect(summary.json).toMatchObject({ status: 'OK', stats: { created: 2 }, responseType: 'ImportReport' });
      expect(emu.store.get('optionSets', 'NewOptSet0A')).toBeDefined();
    });
  });

  it('an unknown job, or one not run yet, has no summary: 200 with an empty body, as DHIS2 answers', async () => {
    await withEmulator({}, async (emu) => {
      expect((await call(emu, '/api/system/tasks/METADATA_IMPORT/NoSuchJob01')).json).toEqual([]);
      const unknown = await call(emu, '/api/system/taskSummaries/METADATA_IMPORT/NoSuchJob01');
      expect([unknown.status, unknown.text, unknown.headers.get('content-type')]).toEqual([200, '', null]);
      const job = (await post(emu, validPayload(), 'async=true')).json.response;
      const early = await call(emu, `/api/system/taskSummaries/METADATA_IMPORT/${job.id}`);
      expect([early.status, early.text]).toEqual([200, '']);
    });
  });
});

describe('program rule and rule variable names', () => {
  const RULE = 'YvvagOYZGfe'; // 'PR - Assign critical steps' of the HNQIS2 sample
  const VARIABLE = 'tmNYFvnl4IQ'; // '_S1Q1'

  it('E4057: a rule named like another STORED rule of its program, ignoring case, is refused', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const stored = emu.store.get('programRules', RULE)!;
      const program = emu.store.get('programs', H2)!;
      const twin = { id: 'NewRule0001', name: (stored.name as string).toUpperCase(), program: { id: H2 } };
      const r = await post(emu, { programRules: [twin] });
      expect(r.status).toBe(409);
      expect(errorsOf(reportOf(r))).toEqual([
        {
          message: `The Program Rule name ${twin.name} already exist in Program ${program.name as string}`,
          args: [twin.name, program.name],
          mainKlass: 'org.hisp.dhis.programrule.ProgramRule',
          errorCode: 'E4057',
          errorProperties: [twin.name, program.name],
        },
      ]);
      // Older messages end with a period; this one never did.
      await withEmulator({ version: '2.36.13' }, async (old) => {
        const messages = errorsOf(reportOf(await post(old, { programRules: [twin] }))).map((e) => e.message);
        expect(messages).toEqual([
          `The Program Rule name ${twin.name} already exist in Program ${program.name as string}`,
        ]);
      });
      // The rule itself may change the case of its name; another program may use the name.
      expect(reportOf(await post(emu, { programRules: [{ ...stored, name: twin.name }] })).status).toBe('OK');
      const elsewhere = { ...twin, program: { id: 'Lt6P15ps7f6' } };
      expect(reportOf(await post(emu, { programRules: [elsewhere] })).status).toBe('OK');
      // Only stored rules count: two new rules of one payload do not clash with each other.
      const pair = [1, 2].map((i) => ({ id: `NewRule000${i + 1}`, name: 'Brand new rule', program: { id: H2 } }));
      expect(reportOf(await post(emu, { programRules: pair })).status).toBe('OK');
    });
  });

  it('E4051: a variable named exactly like another stored variable of its program is refused', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const stored = emu.store.get('programRuleVariables', VARIABLE)!;
      const twin = {
        id: 'NewVariabl1',
        name: stored.name,
        program: { id: H2 },
        programRuleVariableSourceType: 'CALCULATED_VALUE',
      };
      const r = await post(emu, { programRuleVariables: [twin] });
      expect(errorsOf(reportOf(r))).toEqual([
        expect.objectContaining({
          errorCode: 'E4051',
          mainKlass: 'org.hisp.dhis.programrule.ProgramRuleVariable',
          message: `A program rule variable with name \`${stored.name as string}\` and program uid \`${H2}\` already exists`,
        }),
      ]);
      // The query compares names exactly: another case is another name.
      const lower = { ...twin, name: (stored.name as string).toLowerCase() };
      expect(lower.name).not.toBe(stored.name);
      expect(reportOf(await post(emu, { programRuleVariables: [lower] }, 'importMode=VALIDATE')).status).toBe('OK');
      // The variable itself may be updated, but not created again with CREATE.
      expect(reportOf(await post(emu, { programRuleVariables: [stored] })).status).toBe('OK');
      const created = errorsOf(reportOf(await post(emu, { programRuleVariables: [stored] }, 'importStrategy=CREATE')));
      expect(created.map((e) => e.errorCode).sort()).toEqual(['E4051', 'E5000']);
    });
  });

  it('E4052: a variable name with the word and, or or not is refused', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const variable = (id: string, name: string): Record<string, unknown> => ({
        id,
        name,
        program: { id: H2 },
        programRuleVariableSourceType: 'CALCULATED_VALUE',
      });
      const r = await post(emu, {
        programRuleVariables: [
          variable('NewVariabl1', 'weight and height'),
          variable('NewVariabl2', 'not'),
          variable('NewVariabl3', 'Android or'),
          variable('NewVariabl4', 'Nothing Andes ORx'),
          variable('NewVariabl5', 'A AND B'),
        ],
      });
      expect(errorsOf(reportOf(r)).map((e) => [e.errorCode, e.message])).toEqual([
        [
          'E4052',
          'For program rule variable with name `weight and height` following keywords are forbidden : and , or , not',
        ],
        ['E4052', 'For program rule variable with name `not` following keywords are forbidden : and , or , not'],
        ['E4052', 'For program rule variable with name `Android or` following keywords are forbidden : and , or , not'],
      ]);
    });
  });

  it('the sample programs still import back as exported', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const exported = (await call(emu, `/api/programs/${H2}/metadata.json`)).json;
      expect(reportOf(await post(emu, exported, 'importMode=VALIDATE')).status).toBe('OK');
    });
  });
});
