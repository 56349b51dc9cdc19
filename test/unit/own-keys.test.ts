/**
 * Keys from data that name Object.prototype members (`__proto__`, `constructor`, `toString`): JSON.parse makes
 * them own properties, and every table and object the metadata core keys by them must too
 * (src/util/own-keys.ts). Before, a nested array under `__proto__` or `constructor` crashed canonical order
 * ("keyOf is not a function"), and `__proto__` in a sharing map replaced the map's prototype.
 */
import { describe, expect, it } from 'vitest';
import { loadEngines } from '../../src/check/engines.ts';
import { programModel } from '../../src/check/program-model.ts';
import { ruleEngineContext } from '../../src/check/rule-context.ts';
import { checkProgram } from '../../src/check/run-checks.ts';
import { canonicalJson } from '../../src/metadata/canonical.ts';
import { diffMetadata } from '../../src/metadata/diff.ts';
import { mapJson } from '../../src/metadata/json.ts';
import { sharingFromLegacy, withSharingOf } from '../../src/metadata/sharing.ts';
import { objectCounts, type MetadataDocument, type MetadataObject } from '../../src/metadata/types.ts';
import { clearSecrets, redactValue, registerSecret } from '../../src/util/secrets.ts';
import { keyTable, setOwn } from '../../src/util/own-keys.ts';

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

const parsed = (text: string) => JSON.parse(text) as MetadataDocument;

describe('keys named like Object.prototype members', () => {
  it('keyTable reads only what it lists; setOwn writes an own property', () => {
    const table = keyTable({ a: 1 });
    expect(table.a).toBe(1);
    for (const k of PROTO_KEYS) expect(table[k]).toBeUndefined();
    const out: Record<string, number> = {};
    for (const k of PROTO_KEYS) setOwn(out, k, 1);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out).sort()).toEqual([...PROTO_KEYS].sort());
  });

  it.each(PROTO_KEYS)('canonical order keeps an array of objects under %s, in its order', (key) => {
    const doc = parsed(`{"programs":[{"id":"p","${key}":[{"id":"y"},{"id":"x"}]}]}`);
    const canon = JSON.parse(canonicalJson(doc)) as { programs: Record<string, unknown>[] };
    expect(Object.hasOwn(canon.programs[0]!, key)).toBe(true);
    expect(canon.programs[0]![key]).toEqual([{ id: 'y' }, { id: 'x' }]);
  });

  it.each(PROTO_KEYS)('the diff compares an array under %s member by member', (key) => {
    const server = parsed(`{"programs":[{"id":"p","${key}":[{"id":"x","name":"a"},{"id":"y"}]}]}`);
    const file = parsed(`{"programs":[{"id":"p","${key}":[{"id":"x","name":"b"},{"id":"y"}]}]}`);
    const current = new Map([['p', (server.programs as MetadataObject[])[0]!]]);
    const diff = diffMetadata(file, current, []);
    expect(diff.totals).toMatchObject({ changed: 1, unchanged: 0 });
    expect(diffMetadata(server, current, []).totals).toMatchObject({ changed: 0, unchanged: 1 });
  });

  it('mapJson, objectCounts and the sharing map keep a __proto__ key as data', () => {
    const doc = parsed('{"__proto__":[{"id":"a"}],"programs":[{"id":"p","__proto__":{"x":1}}]}');
    const copy = mapJson(doc, (_k, v) => v) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(objectCounts(doc)).toEqual(
      Object.fromEntries([
        ['__proto__', 1],
        ['programs', 1],
      ]),
    );

    const obj = parsed(
      '{"id":"p","publicAccess":"r-------","userAccesses":[{"userUid":"__proto__","access":"rw------"}]}',
    ) as MetadataObject;
    const sharing = sharingFromLegacy(obj) as { users: Record<string, unknown> };
    expect(Object.getPrototypeOf(sharing.users)).toBe(Object.prototype);
    expect(Object.keys(sharing.users)).toEqual(['__proto__']);

    const target = parsed('{"id":"p","__proto__":{"sharing":{"public":"rwrw----"}}}') as MetadataObject;
    const merged = withSharingOf(target, { id: 'p', sharing: { public: 'r-------' } } as MetadataObject);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(merged.sharing).toEqual({ public: 'r-------' });
  });

  it('redactValue keeps a __proto__ key, redacted like any other', () => {
    registerSecret('s3cr3t-value');
    try {
      const value = JSON.parse('{"__proto__":{"token":"s3cr3t-value"}}') as Record<string, unknown>;
      const out = redactValue(value);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(JSON.stringify(out)).not.toContain('s3cr3t-value');
      expect(Object.hasOwn(out, '__proto__')).toBe(true);
    } finally {
      clearSecrets();
    }
  });
});

describe('the checks, on names of Object.prototype members in expressions and value types', () => {
  const PROGRAM = 'PrgTracker1';
  const doc = (indicator: string, valueType: string): MetadataDocument => ({
    programs: [
      { id: PROGRAM, name: 'Tracker', programType: 'WITH_REGISTRATION', programStages: [{ id: 'StageOne001' }] },
    ],
    programStages: [
      {
        id: 'StageOne001',
        name: 'One',
        program: { id: PROGRAM },
        programStageDataElements: [{ dataElement: { id: 'DeOnStage01' } }],
      },
    ],
    dataElements: [{ id: 'DeOnStage01', name: 'On stage', valueType }],
    programRuleVariables: [
      {
        id: 'VarOne00001',
        name: 'v',
        program: { id: PROGRAM },
        programRuleVariableSourceType: 'DATAELEMENT_CURRENT_EVENT',
        dataElement: { id: 'DeOnStage01' },
      },
    ],
    programRules: [{ id: 'RuleOne0001', name: 'Rule', program: { id: PROGRAM }, condition: "#{v} == 'x'" }],
    programIndicators: [{ id: 'IndOne00001', name: 'Ind', program: { id: PROGRAM }, expression: indicator }],
  });
  const verdicts = async (indicator: string, valueType = 'TEXT') => {
    const d = doc(indicator, valueType);
    const checked = await checkProgram({ id: PROGRAM, file: 'p.json', text: JSON.stringify(d), doc: d }, []);
    return checked.report.expressions.map((v) => [v.type, v.valid, v.severity]);
  };

  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'an indicator calling %s(1) is judged as any unknown function is',
    async (name) => {
      expect(await verdicts(`${name}(1)`)).toEqual(await verdicts('notAFunction(1)'));
    },
    60_000,
  );

  it.each(['constructor', 'toString'])(
    'a data element of valueType %s reads as text in the rule engine, as an unknown type does',
    async (valueType) => {
      expect(await verdicts('1', valueType)).toEqual(await verdicts('1', 'NOT_A_TYPE'));
      // The context rule tests run in (rule-context.ts): the variable's type is the engine's TEXT.
      const { rules } = await loadEngines();
      expect(() => ruleEngineContext(rules, programModel(doc('1', valueType), PROGRAM))).not.toThrow();
    },
    60_000,
  );
});
