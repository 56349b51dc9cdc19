/**
 * Which changes of a plan touch data already collected on the server, and how to count it (pure: no I/O).
 *
 * DHIS2 protects tracker data from none of these: a real 2.43.1 answered VALIDATE with status OK to removing an
 * option that events use, changing its code, deleting it, and changing a data element's valueType from TEXT to
 * NUMBER while events hold text (test/fixtures/dhis2/real-2.43.1/import-validate-*-with-data.json). dhis2-core
 * refuses a valueType change only for aggregate data values (DataElementObjectBundleHook, E1119, docs/dhis2-api.md).
 *
 * The plan's diff says which objects change and which fields; this compares the two sides of those objects
 * (the server's dependency export before, the plan's whole payload after) and, for each change that can strand
 * data, says which records to count (interface.md, "Data already collected"):
 * - an option set loses a code (the option is removed from the set, or its `code` changes): events whose value
 *   of a data element using the set (per stage of the program holding it) is the lost code, and tracked
 *   entities whose value of a program attribute using it is;
 * - a data element's `valueType` or `optionSet` changes: events of each stage of the program with a value for it;
 * - an attribute's `valueType` or `optionSet` changes: tracked entities of the program with a value for it;
 * - a data element leaves a stage: events of that stage with a value for it;
 * - an attribute leaves the program: tracked entities of the program with a value for it.
 * Only this program's records are counted: an option set shared with other programs strands their data too,
 * which their own dry runs (or none) see.
 */
import type { MetadataDiff, ObjectChange } from '../metadata/diff.ts';
import { idOf, isRecord } from '../metadata/json.ts';
import { collection, indexTopLevel, type MetadataDocument, type MetadataObject } from '../metadata/types.ts';
import { keyTable } from '../util/own-keys.ts';

export type ImpactChange =
  | 'option-removed'
  | 'option-code-changed'
  | 'value-type-changed'
  | 'option-set-changed'
  | 'removed-from-stage'
  | 'removed-from-program';

export type RecordKind = 'events' | 'trackedEntities';

/** "2 events", "1 tracked entity". */
export function records(n: number, kind: RecordKind): string {
  const noun = kind === 'events' ? 'event' : 'tracked entity';
  const plural = kind === 'events' ? 'events' : 'tracked entities';
  return `${n} ${n === 1 ? noun : plural}`;
}

export interface NamedRef {
  id: string;
  name?: string;
}

/** What the server is asked: the records of `program` (and stage) with a value of `element` (one of `codes`). */
export interface ImpactQuery {
  kind: RecordKind;
  program: string;
  programStage?: NamedRef;
  element: NamedRef & { collection: 'dataElements' | 'trackedEntityAttributes' };
  /** The values counted (`in`); undefined: any value (`!null`). */
  codes?: string[];
}

/** One change of the plan that touches collected data, and the records to count for it. */
export interface ImpactItem {
  change: ImpactChange;
  /** The object whose change it is (the option set for an option's change, the stage, the program...). */
  object: NamedRef & { collection: string };
  /** The changed key(s), e.g. `options`, `code`, `valueType`, `programStageDataElements`. */
  field: string;
  query: ImpactQuery;
  /** What changes, to tell what the data becomes. */
  detail: {
    /** option-code-changed: the new code of each lost one, in `codes` order. */
    newCodes?: string[];
    oldValueType?: string;
    newValueType?: string;
    oldOptionSet?: NamedRef;
    newOptionSet?: NamedRef;
  };
  /** Where the change is in the file: the object and the key (for the annotation). */
  at: { uid: string; property: string };
}

export interface ImpactInputs {
  programId: string;
  /** The program's dependency export on the server (undefined: the program is new there, no data yet). */
  before: MetadataDocument | undefined;
  /** The server's copy of every payload object it has (completes `before`). */
  serverObjects: ReadonlyMap<string, MetadataObject>;
  /** The whole program as the plan imports it. */
  after: MetadataDocument;
  diff: MetadataDiff;
}

type Index = Map<string, MetadataObject>;

/**
 * valueType changes that keep every stored value valid: each value of the old type is a value of the new one
 * (DHIS2's ValueType: a positive integer is an integer is a number; a percentage and a unit interval are numbers;
 * LONG_TEXT only lifts TEXT's length limit). Nothing is stranded, so nothing is counted.
 */
const WIDENS: Readonly<Record<string, readonly string[]>> = keyTable({
  INTEGER_POSITIVE: ['INTEGER_ZERO_OR_POSITIVE', 'INTEGER', 'NUMBER'],
  INTEGER_ZERO_OR_POSITIVE: ['INTEGER', 'NUMBER'],
  INTEGER_NEGATIVE: ['INTEGER', 'NUMBER'],
  INTEGER: ['NUMBER'],
  PERCENTAGE: ['NUMBER'],
  UNIT_INTERVAL: ['NUMBER'],
  TEXT: ['LONG_TEXT'],
});

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const refs = (v: unknown): string[] => (Array.isArray(v) ? v.map(idOf).filter((id) => id !== undefined) : []);
const named = (id: string, ...objs: (MetadataObject | undefined)[]): NamedRef => {
  const name = objs.map((o) => str(o?.name) ?? str(o?.displayName)).find((n) => n !== undefined);
  return name === undefined ? { id } : { id, name };
};

/**
 * The data elements of a stage: its embedded `programStageDataElements` (a bare `{id}` one read from the document's
 * top-level copy), else the top-level ones naming the stage.
 */
function stageDataElements(stage: MetadataObject, doc: MetadataDocument | undefined, objects: Index): string[] {
  const embedded = stage.programStageDataElements;
  const list = Array.isArray(embedded)
    ? embedded
    : collection(doc ?? {}, 'programStageDataElements').filter((p) => idOf(p.programStage) === stage.id);
  return list
    .map((p) => (isRecord(p) ? (idOf(p.dataElement) ?? idOf(objects.get(idOf(p) ?? '')?.dataElement)) : undefined))
    .filter((id) => id !== undefined);
}

/** The attributes of a program: its `programTrackedEntityAttributes` (a bare `{id}` one read from `objects`). */
function programAttributes(program: MetadataObject | undefined, objects: Index): string[] {
  const list = program?.programTrackedEntityAttributes;
  if (!Array.isArray(list)) return [];
  return list
    .map((p) =>
      isRecord(p)
        ? (idOf(p.trackedEntityAttribute) ?? idOf(objects.get(idOf(p) ?? '')?.trackedEntityAttribute))
        : undefined,
    )
    .filter((id) => id !== undefined);
}

const touches = (c: ObjectChange, key: string): boolean =>
  c.fields.some((f) => f.path === key || f.path.startsWith(`${key}.`) || f.path.startsWith(`${key}[`));

export function dataImpactItems(inputs: ImpactInputs): ImpactItem[] {
  const { programId, before, diff } = inputs;
  if (before === undefined) return [];
  const changed = new Map<string, ObjectChange[]>();
  for (const c of diff.collections) if (c.changed.length > 0) changed.set(c.collection, c.changed);
  if (changed.size === 0) return [];

  const was = indexTopLevel(before);
  for (const [id, obj] of inputs.serverObjects) if (!was.has(id)) was.set(id, obj);
  const now = indexTopLevel(inputs.after);
  const program = was.get(programId);
  if (!program) return [];
  // Tracked entities only where the program registers them (an event program has none: its events cover it).
  const tracker = program.programType !== 'WITHOUT_REGISTRATION' && idOf(program.trackedEntityType) !== undefined;
  const stages = collection(before, 'programStages').filter(
    (s) => idOf(s.program) === programId || refs(program.programStages).includes(s.id ?? ''),
  );
  const stagesOf = (de: string) => stages.filter((s) => stageDataElements(s, before, was).includes(de));
  const attributes = new Set(tracker ? programAttributes(program, was) : []);
  const items: ImpactItem[] = [];

  const eventQuery = (stage: MetadataObject, de: string, codes?: string[]): ImpactQuery => ({
    kind: 'events',
    program: programId,
    programStage: named(stage.id as string, stage),
    element: { ...named(de, was.get(de), now.get(de)), collection: 'dataElements' },
    ...(codes ? { codes } : {}),
  });
  const entityQuery = (tea: string, codes?: string[]): ImpactQuery => ({
    kind: 'trackedEntities',
    program: programId,
    element: { ...named(tea, was.get(tea), now.get(tea)), collection: 'trackedEntityAttributes' },
    ...(codes ? { codes } : {}),
  });

  // 1. Codes an option set loses: removed from the set, or the option's code changed.
  const optionSets = new Set<string>();
  for (const c of changed.get('optionSets') ?? []) if (touches(c, 'options')) optionSets.add(c.id);
  for (const c of changed.get('options') ?? []) {
    if (!touches(c, 'code')) continue;
    const set =
      idOf(now.get(c.id)?.optionSet) ??
      idOf(was.get(c.id)?.optionSet) ??
      collection(before, 'optionSets').find((s) => refs(s.options).includes(c.id))?.id;
    if (set !== undefined) optionSets.add(set);
  }
  const codeOf = (id: string, side: Index) => str(side.get(id)?.code) ?? str(was.get(id)?.code);
  for (const setId of optionSets) {
    const oldSet = was.get(setId);
    if (!oldSet) continue; // a new option set: no data holds its codes yet
    const newSet = now.get(setId) ?? oldSet;
    const oldOptions = refs(oldSet.options);
    const newOptions = new Set(refs(newSet.options));
    const kept = new Set(
      [...newOptions].map((id) => codeOf(id, now)).filter((code): code is string => code !== undefined),
    );
    const removed: string[] = [];
    const recoded: { option: string; code: string; newCode: string }[] = [];
    for (const option of oldOptions) {
      const code = str(was.get(option)?.code);
      if (code === undefined || kept.has(code)) continue;
      const newCode = newOptions.has(option) ? str(now.get(option)?.code) : undefined;
      if (newCode !== undefined) recoded.push({ option, code, newCode });
      else removed.push(code);
    }
    const users = {
      dataElements: collection(before, 'dataElements').filter((d) => idOf(d.optionSet) === setId),
      attributes: [...attributes].filter((a) => idOf(was.get(a)?.optionSet) === setId),
    };
    const object = { ...named(setId, oldSet, newSet), collection: 'optionSets' };
    const groups: {
      change: ImpactChange;
      field: string;
      codes: string[];
      detail: ImpactItem['detail'];
      at: ImpactItem['at'];
    }[] = [];
    if (removed.length > 0) {
      const at = { uid: setId, property: 'options' };
      groups.push({ change: 'option-removed', field: 'options', codes: removed, detail: {}, at });
    }
    if (recoded.length > 0) {
      groups.push({
        change: 'option-code-changed',
        field: 'code',
        codes: recoded.map((r) => r.code),
        detail: { newCodes: recoded.map((r) => r.newCode) },
        at: { uid: recoded[0]!.option, property: 'code' },
      });
    }
    for (const { codes, ...g } of groups) {
      for (const de of users.dataElements) {
        for (const stage of stagesOf(de.id as string)) {
          items.push({ ...g, object, query: eventQuery(stage, de.id as string, codes) });
        }
      }
      for (const tea of users.attributes) items.push({ ...g, object, query: entityQuery(tea, codes) });
    }
  }

  // 2. A data element's or attribute's valueType or option set.
  const typeChanges = (c: ObjectChange) => {
    const fields = ['valueType', 'optionSet'].filter((key) => touches(c, key));
    if (fields.length === 0) return undefined;
    const old = was.get(c.id);
    const neu = now.get(c.id);
    const set = (o: MetadataObject | undefined): NamedRef | undefined => {
      const id = idOf(o?.optionSet);
      return id === undefined ? undefined : named(id, was.get(id), now.get(id));
    };
    const detail: ImpactItem['detail'] = {};
    if (fields.includes('valueType')) {
      const oldType = str(old?.valueType);
      const newType = str(neu?.valueType);
      if (oldType !== undefined) detail.oldValueType = oldType;
      if (newType !== undefined) detail.newValueType = newType;
    }
    if (fields.includes('optionSet')) {
      const oldSet = set(old);
      const newSet = set(neu);
      if (oldSet) detail.oldOptionSet = oldSet;
      if (newSet) detail.newOptionSet = newSet;
    }
    // A widening alone (INTEGER to NUMBER, TEXT to LONG_TEXT) keeps every value valid: nothing to count.
    const widens = (WIDENS[detail.oldValueType ?? ''] ?? []).includes(detail.newValueType ?? '');
    if (fields.length === 1 && fields[0] === 'valueType' && widens) return undefined;
    const change: ImpactChange = fields.includes('valueType') ? 'value-type-changed' : 'option-set-changed';
    return { change, field: fields.join(', '), detail, at: { uid: c.id, property: fields[0]! } };
  };
  for (const c of changed.get('dataElements') ?? []) {
    const t = typeChanges(c);
    if (!t) continue;
    const object = { ...named(c.id, was.get(c.id), now.get(c.id)), collection: 'dataElements' };
    for (const stage of stagesOf(c.id)) items.push({ ...t, object, query: eventQuery(stage, c.id) });
  }
  for (const c of changed.get('trackedEntityAttributes') ?? []) {
    const t = typeChanges(c);
    if (!t || !attributes.has(c.id)) continue;
    const object = { ...named(c.id, was.get(c.id), now.get(c.id)), collection: 'trackedEntityAttributes' };
    items.push({ ...t, object, query: entityQuery(c.id) });
  }

  // 3. A data element that leaves a stage of the program.
  for (const c of changed.get('programStages') ?? []) {
    const stage = stages.find((s) => s.id === c.id);
    const next = now.get(c.id);
    if (!stage || !next || !touches(c, 'programStageDataElements')) continue;
    const staying = new Set(stageDataElements(next, inputs.after, now));
    const object = { ...named(c.id, stage, next), collection: 'programStages' };
    for (const de of stageDataElements(stage, before, was)) {
      if (staying.has(de)) continue;
      items.push({
        change: 'removed-from-stage',
        object,
        field: 'programStageDataElements',
        query: eventQuery(stage, de),
        detail: {},
        at: { uid: c.id, property: 'programStageDataElements' },
      });
    }
  }

  // 4. An attribute that leaves the program.
  for (const c of changed.get('programs') ?? []) {
    if (c.id !== programId || !tracker || !touches(c, 'programTrackedEntityAttributes')) continue;
    const next = now.get(c.id);
    if (!next) continue;
    const staying = new Set(programAttributes(next, now));
    const object = { ...named(c.id, program, next), collection: 'programs' };
    for (const tea of attributes) {
      if (staying.has(tea)) continue;
      items.push({
        change: 'removed-from-program',
        object,
        field: 'programTrackedEntityAttributes',
        query: entityQuery(tea),
        detail: {},
        at: { uid: c.id, property: 'programTrackedEntityAttributes' },
      });
    }
  }
  return items;
}

/** The same question asked once: items with equal keys share one count. */
export function queryKey(q: ImpactQuery): string {
  return [
    q.kind,
    q.program,
    q.programStage?.id ?? '',
    q.element.id,
    q.codes ? [...q.codes].sort().join(';') : '!null',
  ].join('|');
}
