/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers of arbitrary shape */
import { describe, expect, it } from 'vitest';
import { call, withEmulator } from './helpers.ts';
import { DEFAULT_IDS, SAMPLE_PROGRAMS, type Emulator } from './index.ts';

const H2 = 'XY5mWAnxSoN';
const TB = 'Lt6P15ps7f6';

type Obj = Record<string, any>;
const ids = (list: Obj[] | undefined): string[] => (list ?? []).map((o) => o.id as string).sort();
const refIds = (v: unknown): string[] => (Array.isArray(v) ? v.map((r: Obj) => r.id as string) : []);

async function exportOf(emu: Emulator, id: string, query = ''): Promise<Obj> {
  const r = await call(emu, `/api/programs/${id}/metadata.json${query}`);
  expect(r.status).toBe(200);
  return r.json;
}

describe('GET /api/programs/{id}/metadata (dependency export)', () => {
  it('contains the program and what it depends on, computed from the store', async () => {
    await withEmulator({}, async (emu) => {
      const doc = await exportOf(emu, H2);
      const program: Obj = emu.store.get('programs', H2)!;
      expect(Object.keys(doc.system).sort()).toEqual(['date', 'id', 'rev', 'version']);
      expect(doc.system.version).toBe(emu.version);
      expect(ids(doc.programs)).toEqual([H2]);
      expect(ids(doc.programStages)).toEqual(refIds(program.programStages).sort());

      // Stages embed their program stage data elements; the same objects are also listed top-level.
      const embedded = doc.programStages.flatMap((s: Obj) => s.programStageDataElements as Obj[]);
      expect(embedded.length).toBeGreaterThan(0);
      expect(ids(doc.programStageDataElements)).toEqual(ids(embedded));
      const placed = new Set(embedded.map((p: Obj) => p.dataElement.id as string));
      for (const de of placed) expect(ids(doc.dataElements)).toContain(de);

      // Program tracked entity attributes stay in the program, their attributes are exported.
      const pteas = doc.programs[0].programTrackedEntityAttributes as Obj[];
      expect(pteas.length).toBe(3);
      expect(ids(doc.trackedEntityAttributes)).toEqual(pteas.map((p) => p.trackedEntityAttribute.id as string).sort());
      expect(ids(doc.trackedEntityTypes)).toEqual([program.trackedEntityType.id]);

      // Rules and variables are found by their program; actions come with their rules.
      const rules = emu.store.list('programRules').filter((r: Obj) => r.program.id === H2);
      const variables = emu.store.list('programRuleVariables').filter((r: Obj) => r.program.id === H2);
      expect(ids(doc.programRules)).toEqual(ids(rules));
      expect(ids(doc.programRuleVariables)).toEqual(ids(variables));
      expect(ids(doc.programRuleActions)).toEqual(rules.flatMap((r: Obj) => refIds(r.programRuleActions)).sort());
      expect(ids(doc.programStageSections)).toEqual(
        doc.programStages.flatMap((s: Obj) => refIds(s.programStageSections)).sort(),
      );
      expect(ids(doc.programIndicators)).toEqual(
        ids(emu.store.list('programIndicators').filter((p: Obj) => p.program.id === H2)),
      );

      // Option sets bring all their options.
      const optionSetIds = new Set(doc.optionSets.map((o: Obj) => o.id as string));
      const expectedOptions = emu.store.list('options').filter((o: Obj) => optionSetIds.has(o.optionSet?.id));
      expect(ids(doc.options)).toEqual(ids(expectedOptions));

      // Attributes used in attributeValues, among them the PROGRAM_TYPE attribute.
      expect(ids(doc.attributes)).toEqual(expect.arrayContaining(['yB5tFAAN7bI', 'haUflNqP85K', 'LP171jpctBm']));

      // Legend sets are referenced but not exported.
      expect(doc.dataElements.some((d: Obj) => (d.legendSets ?? []).length > 0)).toBe(true);
      expect(doc.legendSets).toBeUndefined();

      // The default category model is included by default.
      expect(ids(doc.categoryCombos)).toContain(DEFAULT_IDS.categoryCombo);
      expect(ids(doc.categoryOptionCombos)).toContain(DEFAULT_IDS.categoryOptionCombo);

      // Nothing of other programs.
      expect(ids(doc.programStages)).not.toContain('ODD4lMPm0JX');
    });
  });

  it('includes program sections from 2.41 (core PR #15903), not before', async () => {
    for (const [version, included] of [
      ['2.40.3', false],
      ['2.41.0', true],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        const doc = await exportOf(emu, H2);
        const sections = emu.store.list('programSections').filter((s: Obj) => s.program.id === H2);
        expect(sections.length).toBeGreaterThan(0);
        expect(ids(doc.programSections), version).toEqual(included ? ids(sections) : []);
        // The program still references them either way.
        expect(refIds(doc.programs[0].programSections)).toEqual(ids(sections));
      });
    }
  });

  it('every sample program exports and imports back cleanly (VALIDATE)', async () => {
    await withEmulator({}, async (emu) => {
      for (const p of SAMPLE_PROGRAMS) {
        const doc = await exportOf(emu, p.id);
        const r = await call(emu, '/api/metadata?importMode=VALIDATE', { body: doc });
        expect(r.json.response.status, p.id).toBe('OK');
        expect(r.json.response.stats.ignored).toBe(0);
      }
    });
  });

  it('serializes legacy sharing keys up to 2.40, not from 2.41, and no sharing with skipSharing=true', async () => {
    for (const [version, legacy] of [
      ['2.39.1', true],
      ['2.40.3', true],
      ['2.41.3', false],
      ['2.43.0', false],
    ] as const) {
      await withEmulator({ version }, async (emu) => {
        const doc = await exportOf(emu, H2);
        const program = doc.programs[0];
        expect(program.sharing.owner).toBe('M5zQapPyTZI');
        expect('publicAccess' in program, version).toBe(legacy);
        expect('userGroupAccesses' in program, version).toBe(legacy);
        if (legacy) {
          expect(program.publicAccess).toBe(program.sharing.public);
          expect(ids(program.userGroupAccesses)).toEqual(Object.keys(program.sharing.userGroups).sort());
        }
        expect('external' in program.sharing, version).toBe(version !== '2.43.0');
        const bare = JSON.stringify(await exportOf(emu, H2, '?skipSharing=true'));
        for (const key of [
          '"sharing"',
          '"publicAccess"',
          '"userGroupAccesses"',
          '"userAccesses"',
          '"externalAccess"',
        ]) {
          expect(bare).not.toContain(key);
        }
      });
    }
  });

  it('converts the legacy sharing of the 2.33 TB fixture to sharing', async () => {
    await withEmulator({ version: '2.41.3' }, async (emu) => {
      const doc = await exportOf(emu, TB);
      const program = doc.programs[0];
      expect(program.sharing.public).toBe('--------');
      expect(program.sharing.userGroups.Ubzlyfqm1gO).toEqual({ id: 'Ubzlyfqm1gO', access: 'rw------' });
      expect(program.user).toBeUndefined();
      expect(program.createdBy).toEqual({ id: 'vUeLeQMSwhN' });
    });
  });

  it('defaults=EXCLUDE leaves out the default category objects', async () => {
    await withEmulator({}, async (emu) => {
      const doc = await exportOf(emu, H2, '?defaults=EXCLUDE');
      const all = Object.values(doc).filter(Array.isArray).flat() as Obj[];
      for (const id of Object.values(DEFAULT_IDS)) expect(all.map((o) => o.id)).not.toContain(id);
      expect(doc.programs).toHaveLength(1);
    });
  });

  it('answers 404 for an unknown program, also without .json', async () => {
    await withEmulator({}, async (emu) => {
      const r = await call(emu, '/api/programs/NoSuchProg1/metadata');
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ httpStatus: 'Not Found', httpStatusCode: 404, status: 'ERROR' });
      expect(r.json.message).toContain('NoSuchProg1');
      expect((await call(emu, `/api/programs/${H2}/metadata`)).status).toBe(200);
    });
  });

  it('download=true asks for an attachment', async () => {
    await withEmulator({}, async (emu) => {
      const r = await call(emu, `/api/programs/${H2}/metadata.json?download=true`);
      expect(r.headers.get('content-disposition')).toMatch(/^attachment/);
    });
  });
});

describe('collection reads', () => {
  it('filters with id:in:[...] and prop.path:eq:value, and expands nested fields', async () => {
    await withEmulator({}, async (emu) => {
      const r = await call(
        emu,
        `/api/programs.json?filter=id:in:[${H2},${TB},NoSuchProg1]&fields=id,name,programStages[id,name]&paging=false`,
      );
      expect(r.status).toBe(200);
      expect(r.json.pager).toBeUndefined();
      expect(ids(r.json.programs)).toEqual([TB, H2].sort());
      const h2 = r.json.programs.find((p: Obj) => p.id === H2);
      expect(Object.keys(h2).sort()).toEqual(['id', 'name', 'programStages']);
      expect(h2.programStages).toContainEqual({ id: 'pxvHJR6ziS0', name: 'Assessment' });

      const sections = await call(
        emu,
        `/api/programStageSections?filter=programStage.id:eq:pxvHJR6ziS0&fields=id&paging=false`,
      );
      const expected = emu.store.list('programStageSections').filter((s: Obj) => s.programStage.id === 'pxvHJR6ziS0');
      expect(ids(sections.json.programStageSections)).toEqual(ids(expected));

      const legends = await call(emu, '/api/legendSets?fields=id,name,legends[id,name]&filter=id:eq:kqQjtHIc7II');
      expect(legends.json.legendSets[0].legends.length).toBeGreaterThan(0);
      expect(Object.keys(legends.json.legendSets[0].legends[0]).sort()).toEqual(['id', 'name']);
    });
  });

  it('pages by 50 by default with a pager, and lists id,displayName by default', async () => {
    await withEmulator({}, async (emu) => {
      const total = emu.store.list('dataElements').length;
      expect(total).toBeGreaterThan(50);
      const first = await call(emu, '/api/dataElements');
      expect(first.json.pager).toMatchObject({ page: 1, pageSize: 50, total, pageCount: Math.ceil(total / 50) });
      expect(first.json.pager.nextPage).toContain('page=2');
      expect(first.json.dataElements).toHaveLength(50);
      expect(Object.keys(first.json.dataElements[0]).sort()).toEqual(['displayName', 'id']);
      const last = await call(emu, `/api/dataElements?page=${first.json.pager.pageCount}&pageSize=50`);
      expect(last.json.dataElements).toHaveLength(total - 50 * (first.json.pager.pageCount - 1));
      const all = await call(emu, '/api/dataElements?paging=false&fields=id');
      expect(all.json.dataElements).toHaveLength(total);
    });
  });

  it('fields :owner and * give the whole object; a single object is GET /api/{collection}/{id}', async () => {
    await withEmulator({}, async (emu) => {
      const stored = emu.store.get('optionSets', 'DfyWt0mZIhj')!;
      const owner = await call(emu, '/api/optionSets?filter=id:eq:DfyWt0mZIhj&fields=:owner');
      expect(owner.json.optionSets[0]).toEqual(stored);
      const one = await call(emu, '/api/optionSets/DfyWt0mZIhj');
      expect(one.json).toMatchObject(stored);
      expect(one.json.displayName).toBe(stored.name);
      const missing = await call(emu, '/api/optionSets/NoSuchSet01');
      expect(missing.status).toBe(404);
      expect(missing.json.message).toBe('OptionSet with id NoSuchSet01 could not be found.');
    });
  });

  it('GET /api/metadata selects collections with <collection>=true and per-collection filters', async () => {
    await withEmulator({}, async (emu) => {
      const r = await call(
        emu,
        `/api/metadata?programs=true&programs:filter=id:eq:${H2}&optionSets:fields=id,name&optionSets:filter=id:in:[DfyWt0mZIhj]`,
      );
      expect(r.status).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(['optionSets', 'programs', 'system']);
      expect(r.json.programs[0]).toEqual(emu.store.get('programs', H2));
      expect(r.json.optionSets).toEqual([{ id: 'DfyWt0mZIhj', name: 'HNQIS - Yes1Partial0.5No0' }]);
    });
  });

  it('answers 404 for unknown collections and routes, 405 for wrong methods, 400 for bad filters', async () => {
    await withEmulator({}, async (emu) => {
      for (const path of ['/api/noSuchThings', '/api/programs/x/y/z', '/api/system/nothing']) {
        const r = await call(emu, path);
        expect(r.status, path).toBe(404);
        expect(r.json).toMatchObject({ httpStatusCode: 404, status: 'ERROR' });
      }
      const put = await call(emu, `/api/programs/${H2}`, { method: 'PUT', body: {} });
      expect(put.status).toBe(405);
      expect(put.json).toMatchObject({ httpStatus: 'Method Not Allowed', httpStatusCode: 405 });
      expect((await call(emu, '/api/system/info', { method: 'DELETE' })).status).toBe(405);
      expect((await call(emu, '/api/programs?filter=id:zz:1')).status).toBe(400);
    });
  });
});
