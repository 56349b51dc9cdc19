import { describe, expect, it } from 'vitest';
import { diffMetadata, formatValue, VOLATILE_KEYS } from '../../src/metadata/diff.ts';
import { idOf, isRecord } from '../../src/metadata/json.ts';
import { collection, type MetadataDocument, type MetadataObject } from '../../src/metadata/types.ts';
import { fixture } from '../helpers/fixtures.ts';

const TB = 'who_TB-REG_TRACKER_V1_DHIS2.33.json';
const COVAC = 'who_CVC_EIR_TRK_DHIS2.38.2_COMPLETE.json';

/** id -> object over every top-level collection, as a caller builds `current` from what it read. */
function serverMap(doc: MetadataDocument): Map<string, MetadataObject> {
  const map = new Map<string, MetadataObject>();
  for (const value of Object.values(doc)) {
    if (!Array.isArray(value)) continue;
    for (const obj of value) if (isRecord(obj) && typeof obj.id === 'string') map.set(obj.id, obj);
  }
  return map;
}

/** Payload objects of a document (top-level arrays of objects). */
function objectCount(doc: MetadataDocument): number {
  return Object.values(doc)
    .filter((v) => Array.isArray(v) && v.every(isRecord))
    .reduce((n, v) => n + (v as unknown[]).length, 0);
}

const find = (doc: MetadataDocument, key: string, pred: (o: MetadataObject) => boolean = () => true) =>
  collection(doc, key).find(pred) as MetadataObject;

describe('diffMetadata', () => {
  for (const name of [TB, COVAC]) {
    it(`${name}: identical -> everything unchanged`, () => {
      const diff = diffMetadata(fixture(name), serverMap(fixture(name)), []);
      expect(diff.totals).toEqual({ created: 0, changed: 0, unchanged: objectCount(fixture(name)) });
      expect(diff.collections.every((c) => c.changed.length === 0 && c.created.length === 0)).toBe(true);
    });
  }

  it('one edited name -> exactly one changed object naming `name` old -> new', () => {
    const payload = fixture(COVAC);
    const de = find(payload, 'dataElements');
    const oldName = de.name;
    de.name = `${String(oldName)} (edited)`;
    const diff = diffMetadata(payload, serverMap(fixture(COVAC)), []);
    expect(diff.totals.changed).toBe(1);
    const changed = diff.collections.flatMap((c) => c.changed);
    expect(changed).toEqual([
      {
        id: de.id,
        name: de.name,
        collection: 'dataElements',
        fields: [{ path: 'name', old: oldName, new: de.name }],
      },
    ]);
    expect(diff.totals.unchanged).toBe(objectCount(payload) - 1);
  });

  it('a new data element -> created', () => {
    const payload = fixture(COVAC);
    const template = find(payload, 'dataElements');
    payload.dataElements = [...collection(payload, 'dataElements'), { ...template, id: 'newDataEl01', name: 'New' }];
    const diff = diffMetadata(payload, serverMap(fixture(COVAC)), []);
    const des = diff.collections.find((c) => c.collection === 'dataElements');
    expect(des?.created).toEqual(['newDataEl01']);
    expect(diff.totals).toEqual({ created: 1, changed: 0, unchanged: objectCount(fixture(COVAC)) });
  });

  it('volatile differences -> unchanged', () => {
    const server = fixture(TB);
    let touched = 0;
    for (const value of Object.values(server)) {
      if (!Array.isArray(value)) continue;
      for (const obj of value as MetadataObject[]) {
        obj.lastUpdated = '2030-01-01T00:00:00.000';
        obj.created = '2030-01-01T00:00:00.000';
        obj.lastUpdatedBy = { id: 'someoneElse' };
        obj.href = `https://elsewhere.example/api/x/${String(obj.id)}`;
        obj.access = { read: true, update: false };
        obj.displayName = 'Translated for another locale';
        obj.favorites = ['someoneElse'];
        touched++;
      }
    }
    expect(touched).toBeGreaterThan(1000);
    // Real properties that look computed stay compared.
    for (const real of [
      'displayInList',
      'displayInReports',
      'displayFrontPageList',
      'displayIncidentDate',
      'displayInForm',
    ]) {
      expect(VOLATILE_KEYS).not.toContain(real);
    }
    const diff = diffMetadata(fixture(TB), serverMap(server), []);
    expect(diff.totals.changed).toBe(0);
  });

  it('ignoreKeys: differences under an ignored key are not changes, at any depth', () => {
    const server = fixture(COVAC);
    const program = find(server, 'programs');
    (program.sharing as Record<string, unknown>).public = 'rwrw----';
    const stage = find(server, 'programStages');
    const psde = (stage.programStageDataElements as MetadataObject[])[0] as MetadataObject;
    psde.sortOrder = 999;
    const withChanges = diffMetadata(fixture(COVAC), serverMap(server), []);
    expect(withChanges.totals.changed).toBe(2);
    const fields = withChanges.collections.flatMap((c) => c.changed).flatMap((c) => c.fields.map((f) => f.path));
    expect(fields).toContain('sharing.public');
    expect(fields).toContain(`programStageDataElements[${String(psde.id)}].sortOrder`);
    const ignored = diffMetadata(fixture(COVAC), serverMap(server), ['sharing', 'sortOrder']);
    expect(ignored.totals.changed).toBe(0);
  });

  it('reordered unordered sets and object keys -> unchanged', () => {
    const server = fixture(TB);
    let reordered = 0;
    const reverse = (obj: MetadataObject, key: string) => {
      const v = obj[key];
      if (Array.isArray(v) && v.length > 1) {
        obj[key] = [...v].reverse();
        reordered++;
      }
    };
    for (const [key, value] of Object.entries(server)) {
      if (!Array.isArray(value)) continue;
      server[key] = (value as MetadataObject[]).map((obj) => {
        for (const k of [
          'translations',
          'attributeValues',
          'userGroupAccesses',
          'organisationUnits',
          'programRuleActions',
        ]) {
          reverse(obj, k);
        }
        // Keys in reverse order.
        return Object.fromEntries(Object.entries(obj).reverse());
      });
    }
    expect(reordered).toBeGreaterThan(50);
    const diff = diffMetadata(fixture(TB), serverMap(server), []);
    expect(diff.totals.changed).toBe(0);
  });

  it("a PSDE's compulsory flag toggled -> one field with a readable path", () => {
    const payload = fixture(TB);
    const stage = find(payload, 'programStages');
    const psde = (stage.programStageDataElements as MetadataObject[])[3] as MetadataObject;
    const was = psde.compulsory;
    psde.compulsory = !was;
    const diff = diffMetadata(payload, serverMap(fixture(TB)), []);
    const changed = diff.collections.flatMap((c) => c.changed);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ id: stage.id, collection: 'programStages', name: stage.name });
    expect(changed[0]?.fields).toEqual([
      { path: `programStageDataElements[${String(psde.id)}].compulsory`, old: was, new: !was },
    ]);
  });

  it('a member removed from or added to an id array is one change, not index noise', () => {
    const payload = fixture(TB);
    const stage = find(payload, 'programStages');
    const psdes = stage.programStageDataElements as MetadataObject[];
    const removed = psdes[0] as MetadataObject;
    stage.programStageDataElements = [...psdes.slice(1), { ...removed, id: 'newPsde0001' }];
    const diff = diffMetadata(payload, serverMap(fixture(TB)), []);
    const fields = diff.collections.flatMap((c) => c.changed).flatMap((c) => c.fields);
    expect(fields.map((f) => f.path).sort()).toEqual(
      [`programStageDataElements[${String(removed.id)}]`, 'programStageDataElements[newPsde0001]'].sort(),
    );
    const gone = fields.find((f) => f.path.includes(String(removed.id)));
    expect(gone?.old).toMatchObject({ id: removed.id });
    expect(gone && 'new' in gone).toBe(false);
  });

  it('translations and attribute values are matched by their natural key', () => {
    const payload = fixture(COVAC);
    const program = find(payload, 'programs');
    const translations = program.translations as { locale: string; property: string; value: string }[];
    const first = translations[0] as { locale: string; property: string; value: string };
    first.value = 'changed';
    const diff = diffMetadata(payload, serverMap(fixture(COVAC)), []);
    const fields = diff.collections.flatMap((c) => c.changed).flatMap((c) => c.fields);
    expect(fields.map((f) => f.path)).toEqual([`translations[${first.locale}/${first.property}].value`]);
  });

  it('absent, null, [] and {} are the same; a bare {id} equals the full reference', () => {
    const payload = fixture(COVAC);
    const server = fixture(COVAC);
    const p = find(payload, 'programs');
    const s = find(server, 'programs');
    p.notificationTemplates = null;
    delete s.programSections;
    p.style = {};
    delete s.style;
    delete (find(payload, 'programs').sharing as Record<string, unknown>).users;
    s.categoryCombo = { id: idOf(s.categoryCombo), name: 'default', code: 'default' };
    const optionSet = find(payload, 'optionSets');
    delete optionSet.translations;
    find(server, 'optionSets', (o) => o.id === optionSet.id).translations = [];
    const diff = diffMetadata(payload, serverMap(server), []);
    expect(diff.collections.flatMap((c) => c.changed)).toEqual([]);
  });

  it('a key only the server has is a change (the import replaces the object)', () => {
    const payload = fixture(COVAC);
    const program = find(payload, 'programs');
    const was = program.enrollmentDateLabel;
    delete program.enrollmentDateLabel;
    const diff = diffMetadata(payload, serverMap(fixture(COVAC)), []);
    expect(diff.collections.flatMap((c) => c.changed).flatMap((c) => c.fields)).toEqual([
      { path: 'enrollmentDateLabel', old: was },
    ]);
  });

  it("an option set's options reordered -> an order change", () => {
    const payload = fixture(COVAC);
    const set = find(payload, 'optionSets', (o) => Array.isArray(o.options) && o.options.length > 2);
    const options = set.options as MetadataObject[];
    set.options = [...options].reverse();
    const diff = diffMetadata(payload, serverMap(fixture(COVAC)), []);
    const fields = diff.collections.flatMap((c) => c.changed).flatMap((c) => c.fields);
    expect(fields).toEqual([
      { path: 'options (order)', old: options.map((o) => o.id), new: [...options].reverse().map((o) => o.id) },
    ]);
  });

  it('skips non-collection keys and reports collections in payload order', () => {
    const payload = { system: { id: 'x' }, package: 'p', programs: [{ id: 'p1', name: 'P' }], options: [] };
    const diff = diffMetadata(payload, new Map(), []);
    expect(diff.collections.map((c) => c.collection)).toEqual(['programs', 'options']);
    expect(diff.totals).toEqual({ created: 1, changed: 0, unchanged: 0 });
  });

  it('is quick on the largest fixture', () => {
    const payload = fixture(TB);
    const server = serverMap(fixture(TB));
    const start = performance.now();
    diffMetadata(payload, server, []);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});

describe('formatValue', () => {
  it('short values as JSON', () => {
    expect(formatValue('abc')).toBe('"abc"');
    expect(formatValue(true)).toBe('true');
    expect(formatValue(3)).toBe('3');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(undefined)).toBe('(none)');
    expect(formatValue({ id: 'abc' })).toBe('{"id":"abc"}');
  });

  it('long values summarised within bounds', () => {
    const long = 'x'.repeat(500);
    const s = formatValue(long);
    expect(s.length).toBeLessThanOrEqual(60);
    expect(s).toContain('500 chars');
    expect(formatValue(Array.from({ length: 40 }, (_, i) => ({ id: `id${i}` })))).toBe('[40 items]');
    const obj = formatValue({ id: 'abcdefghijk', name: 'A data element', description: 'y'.repeat(100), code: 'c' });
    expect(obj).toBe('{id: abcdefghijk, name: "A data element", +2 keys}');
    expect(formatValue(long, 20).length).toBeLessThanOrEqual(24);
  });
});

describe('diffMetadata and embedded sharing', () => {
  it('ignores the default sharing embedded objects carry, but compares the top-level sharing', () => {
    const server = {
      id: 'PrgInd00001',
      name: 'Indicator',
      sharing: { public: 'rw------' },
      analyticsPeriodBoundaries: [{ id: 'Bound000001', boundaryTarget: 'EVENT_DATE', sharing: { external: false } }],
    };
    const file = {
      id: 'PrgInd00001',
      name: 'Indicator',
      sharing: { public: 'rw------' },
      analyticsPeriodBoundaries: [{ id: 'Bound000001', boundaryTarget: 'EVENT_DATE' }],
    };
    expect(diffMetadata({ programIndicators: [file] }, new Map([[server.id, server]]), []).totals.changed).toBe(0);
    const opened = { ...file, sharing: { public: 'rwrw----' } };
    const diff = diffMetadata({ programIndicators: [opened] }, new Map([[server.id, server]]), []);
    expect(diff.collections[0]!.changed[0]!.fields).toEqual([
      { path: 'sharing.public', old: 'rw------', new: 'rwrw----' },
    ]);
  });
});

describe('diffMetadata and default category objects', () => {
  it('treats a reference to the default category combo as no category combo', () => {
    const server = { id: 'DataElem001', name: 'Weight', categoryCombo: { id: 'bjDvmb4bfuf' } };
    const file = { id: 'DataElem001', name: 'Weight' };
    expect(diffMetadata({ dataElements: [file] }, new Map([[server.id, server]]), []).totals.changed).toBe(0);
    const other = { ...file, categoryCombo: { id: 'OtherCombo1' } };
    expect(diffMetadata({ dataElements: [other] }, new Map([[server.id, server]]), []).totals.changed).toBe(1);
  });
});
