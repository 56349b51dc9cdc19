/**
 * Metadata reads: the program dependency export (GET /api/programs/{id}/metadata), collection reads
 * (GET /api/{collection}[/{id}]) and GET /api/metadata.
 *
 * The dependency export follows dhis2-core DefaultMetadataExportService.getMetadataWithDependencies /
 * handleProgram (dhis-service-dxf2, 2.39-2.41 line): the program and its attributes, category combo (with
 * categories, options and option combos), data entry form, tracked entity type, notification templates,
 * stages (with their PSDEs and data elements, sections and their program indicators, forms), program
 * tracked entity attributes and their attributes (with option sets), program indicators, program rules
 * found by their `program` (with actions and what those point to, option groups included) and program rule
 * variables found by their `program`. Program sections (with their attributes) were added by core PR
 * #15903 (2.41 here; the reference app fetched them separately before). Legend sets are NOT followed from data elements. ProgramStageDataElement and
 * ProgramTrackedEntityAttribute objects are put in the export map too, so besides being embedded in their
 * stage/program they also appear as top-level `programStageDataElements` / `programTrackedEntityAttributes`
 * arrays, as in real exports (the reference app reads `metadata.programStageDataElements`) up to 2.41; the real
 * 2.42.5.2 and 2.43.1 exports no longer list them at the top (version.ts exportsEmbeddedAtTop).
 */
import { applyFields, matchesAll, parseFields, parseFilter, type FieldSpec, type Filter } from './fields.ts';
import { refId } from './normalize.ts';
import { DEFAULT_ID_SET, EMBEDDED_OWNER, isKnownCollection, klassOf, simpleName } from './schema.ts';
import { LEGACY_SHARING_KEYS, serializeSharing } from './sharing.ts';
import { webMessage, type Reply, type State } from './state.ts';
import { exportsEmbeddedAtTop, exportsProgramSections, hasSystemId } from './version.ts';
import { isObj, type Obj, type Store } from './store.ts';

class SetMap {
  readonly map = new Map<string, Map<string, Obj>>();
  add(collection: string, o: Obj | undefined): boolean {
    if (!o || typeof o.id !== 'string') return false;
    let m = this.map.get(collection);
    if (!m) this.map.set(collection, (m = new Map()));
    if (m.has(o.id)) return false;
    m.set(o.id, o);
    return true;
  }
}

function refs(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).map(refId).filter((x): x is string => !!x);
}

/** Objects of `collection` listed in `listed` or pointing back at `ownerId` through `back`. */
function children(store: Store, collection: string, listed: unknown, back: string, ownerId: string): Obj[] {
  const out = new Map<string, Obj>();
  for (const id of refs(listed)) {
    const o = store.rawGet(collection, id);
    if (o) out.set(id, o);
  }
  for (const o of store.rawList(collection)) if (refId(o[back]) === ownerId) out.set(o.id as string, o);
  return [...out.values()];
}

export interface DependencyOptions {
  /** Program sections (and their attributes) joined the export with core PR #15903. */
  programSections: boolean;
}

export function programDependencies(
  store: Store,
  program: Obj,
  options: DependencyOptions = { programSections: true },
): Map<string, Map<string, Obj>> {
  const md = new SetMap();
  const get = (c: string, id: string | undefined): Obj | undefined => (id ? store.rawGet(c, id) : undefined);

  const attributes = (o: Obj): void => {
    if (!Array.isArray(o.attributeValues)) return;
    for (const av of o.attributeValues) if (isObj(av)) md.add('attributes', get('attributes', refId(av.attribute)));
  };
  const simple = (c: string, o: Obj | undefined): void => {
    if (md.add(c, o)) attributes(o!);
  };
  const option = (o: Obj | undefined): void => simple('options', o);
  const optionSet = (os: Obj | undefined): void => {
    if (!md.add('optionSets', os)) return;
    attributes(os!);
    for (const o of children(store, 'options', os!.options, 'optionSet', os!.id as string)) option(o);
  };
  const optionGroup = (g: Obj | undefined): void => {
    if (!md.add('optionGroups', g)) return;
    attributes(g!);
    for (const id of refs(g!.options)) option(get('options', id));
  };
  const categoryOption = (o: Obj | undefined): void => simple('categoryOptions', o);
  const category = (c: Obj | undefined): void => {
    if (!md.add('categories', c)) return;
    attributes(c!);
    for (const id of refs(c!.categoryOptions)) categoryOption(get('categoryOptions', id));
  };
  const categoryCombo = (cc: Obj | undefined): void => {
    if (!md.add('categoryCombos', cc)) return;
    attributes(cc!);
    for (const id of refs(cc!.categories)) category(get('categories', id));
    for (const coc of store.rawList('categoryOptionCombos')) {
      if (refId(coc.categoryCombo) !== cc!.id || !md.add('categoryOptionCombos', coc)) continue;
      attributes(coc);
      for (const id of refs(coc.categoryOptions)) categoryOption(get('categoryOptions', id));
    }
  };
  const dataElement = (de: Obj | undefined): void => {
    if (!md.add('dataElements', de)) return;
    attributes(de!);
    categoryCombo(get('categoryCombos', refId(de!.categoryCombo)));
    optionSet(get('optionSets', refId(de!.optionSet)));
    optionSet(get('optionSets', refId(de!.commentOptionSet)));
  };
  const trackedEntityAttribute = (tea: Obj | undefined): void => {
    if (!md.add('trackedEntityAttributes', tea)) return;
    attributes(tea!);
    optionSet(get('optionSets', refId(tea!.optionSet)));
  };
  const notificationTemplate = (t: Obj | undefined): void => {
    if (!md.add('programNotificationTemplates', t)) return;
    trackedEntityAttribute(get('trackedEntityAttributes', refId(t!.recipientProgramAttribute)));
    dataElement(get('dataElements', refId(t!.recipientDataElement)));
  };
  const programIndicator = (pi: Obj | undefined): void => simple('programIndicators', pi);
  const stageSection = (s: Obj | undefined): void => {
    if (!md.add('programStageSections', s)) return;
    attributes(s!);
    for (const id of refs(s!.programIndicators)) programIndicator(get('programIndicators', id));
  };
  const stage = (s: Obj | undefined): void => {
    if (!md.add('programStages', s)) return;
    attributes(s!);
    for (const id of refs(s!.notificationTemplates)) notificationTemplate(get('programNotificationTemplates', id));
    for (const psde of Array.isArray(s!.programStageDataElements) ? s!.programStageDataElements : []) {
      if (!isObj(psde) || !md.add('programStageDataElements', psde)) continue;
      attributes(psde);
      dataElement(get('dataElements', refId(psde.dataElement)));
    }
    for (const pss of children(
      store,
      'programStageSections',
      s!.programStageSections,
      'programStage',
      s!.id as string,
    )) {
      stageSection(pss);
    }
    simple('dataEntryForms', get('dataEntryForms', refId(s!.dataEntryForm)));
  };
  const ruleAction = (a: Obj): void => {
    if (!md.add('programRuleActions', a)) return;
    attributes(a);
    dataElement(get('dataElements', refId(a.dataElement)));
    trackedEntityAttribute(get('trackedEntityAttributes', refId(a.trackedEntityAttribute)));
    programIndicator(get('programIndicators', refId(a.programIndicator)));
    stageSection(get('programStageSections', refId(a.programStageSection)));
    stage(get('programStages', refId(a.programStage)));
    optionGroup(get('optionGroups', refId(a.optionGroup)));
  };

  const pid = program.id as string;
  md.add('programs', program);
  attributes(program);
  categoryCombo(get('categoryCombos', refId(program.categoryCombo)));
  simple('dataEntryForms', get('dataEntryForms', refId(program.dataEntryForm)));
  simple('trackedEntityTypes', get('trackedEntityTypes', refId(program.trackedEntityType)));
  for (const id of refs(program.notificationTemplates)) notificationTemplate(get('programNotificationTemplates', id));
  for (const s of children(store, 'programStages', program.programStages, 'program', pid)) stage(s);
  for (const ptea of Array.isArray(program.programTrackedEntityAttributes)
    ? program.programTrackedEntityAttributes
    : []) {
    if (!isObj(ptea) || !md.add('programTrackedEntityAttributes', ptea)) continue;
    attributes(ptea);
    trackedEntityAttribute(get('trackedEntityAttributes', refId(ptea.trackedEntityAttribute)));
  }
  for (const pi of children(store, 'programIndicators', program.programIndicators, 'program', pid))
    programIndicator(pi);
  const sections = options.programSections
    ? children(store, 'programSections', program.programSections, 'program', pid)
    : [];
  for (const ps of sections) {
    if (!md.add('programSections', ps)) continue;
    attributes(ps);
    for (const id of refs(ps.trackedEntityAttributes)) trackedEntityAttribute(get('trackedEntityAttributes', id));
  }
  for (const rule of store.rawList('programRules')) {
    if (refId(rule.program) !== pid || !md.add('programRules', rule)) continue;
    attributes(rule);
    for (const a of children(store, 'programRuleActions', rule.programRuleActions, 'programRule', rule.id as string)) {
      ruleAction(a);
    }
  }
  for (const prv of store.rawList('programRuleVariables')) {
    if (refId(prv.program) !== pid || !md.add('programRuleVariables', prv)) continue;
    attributes(prv);
    trackedEntityAttribute(get('trackedEntityAttributes', refId(prv.trackedEntityAttribute)));
    dataElement(get('dataElements', refId(prv.dataElement)));
    stage(get('programStages', refId(prv.programStage)));
  }
  return md.map;
}

function stripSharingDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripSharingDeep);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'sharing' || (LEGACY_SHARING_KEYS as readonly string[]).includes(k)) continue;
    out[k] = stripSharingDeep(x);
  }
  return out;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? '').toLowerCase() === 'true';
}

/** The `system` block of exports: {id, rev, version, date}. */
export function systemBlock(state: State): Obj {
  return {
    id: hasSystemId(state.version) ? state.systemId : null,
    rev: revisionOf(state),
    version: state.version.text,
    date: new Date().toISOString(),
  };
}

export function revisionOf(state: State): string {
  // A stable fake git revision per version, as a real build has one.
  let h = 0;
  for (const ch of state.version.text) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(7, '0').slice(0, 7);
}

export function programMetadata(state: State, programId: string, q: URLSearchParams): Reply {
  const program = state.store.rawGet('programs', programId);
  if (!program) return webMessage(404, `Program not found for uid: ${programId}`);
  const skipSharing = boolParam(q, 'skipSharing');
  const excludeDefaults = q.get('defaults') === 'EXCLUDE';
  const deps = programDependencies(state.store, program, { programSections: exportsProgramSections(state.version) });
  const body: Obj = { system: systemBlock(state) };
  const atTop = exportsEmbeddedAtTop(state.version);
  for (const c of [...deps.keys()].sort()) {
    if (!atTop && (c === 'programStageDataElements' || c === 'programTrackedEntityAttributes')) continue;
    let objects = [...deps.get(c)!.values()];
    if (excludeDefaults) objects = objects.filter((o) => !DEFAULT_ID_SET.has(o.id as string));
    if (objects.length === 0) continue;
    body[c] = objects.map((o) => {
      const s = serializeSharing(c, o, state.version);
      return skipSharing ? stripSharingDeep(s) : s;
    });
  }
  const headers: Record<string, string> = {};
  if (boolParam(q, 'download')) headers['Content-Disposition'] = 'attachment; filename=metadata.json';
  return { status: 200, body, headers };
}

/** All objects of a collection; embedded ones (PSDEs, PTEAs, TETAs) are gathered from their owners. */
function collectionObjects(store: Store, collection: string): Obj[] {
  const owner = EMBEDDED_OWNER[collection];
  if (!owner) return store.rawList(collection);
  const [ownerCollection, prop] = owner;
  return store
    .rawList(ownerCollection)
    .flatMap((o) => (Array.isArray(o[prop]) ? (o[prop] as unknown[]).filter(isObj) : []));
}

export function hasCollection(store: Store, collection: string): boolean {
  return isKnownCollection(collection) || store.collections().includes(collection);
}

function filtersOf(values: string[]): Filter[] {
  return values.map(parseFilter);
}

function order(objects: Obj[], spec: string | null): Obj[] {
  if (!spec) return objects;
  const [prop = 'id', dir = 'asc'] = spec.split(',')[0]!.split(':');
  const sign = dir.toLowerCase().startsWith('desc') ? -1 : 1;
  const key = (o: Obj): string => String(o[prop] ?? (prop === 'displayName' ? o.name : '') ?? '');
  return [...objects].sort((a, b) => sign * key(a).localeCompare(key(b)));
}

function render(state: State, collection: string, objects: Obj[], fields: FieldSpec): Obj[] {
  const resolve = (c: string, id: string): Obj | undefined => {
    const o = state.store.rawGet(c, id);
    return o ? serializeSharing(c, o, state.version) : undefined;
  };
  return objects.map((o) => applyFields(serializeSharing(collection, o, state.version), fields, resolve));
}

export function listCollection(state: State, collection: string, q: URLSearchParams): Reply {
  const objects = collectionObjects(state.store, collection);
  const resolve = (c: string, id: string): Obj | undefined => {
    const o = state.store.rawGet(c, id);
    return o ? serializeSharing(c, o, state.version) : undefined;
  };
  return listObjects(state, collection, objects, q, resolve, (o) => serializeSharing(collection, o, state.version));
}

/**
 * A list answer of any AbstractCrudController: `filter` (rootJunction), `order`, `fields` (default
 * id,displayName), paging (pager and pageSize 50 unless paging=false); `prepare` serializes each listed object.
 */
export function listObjects(
  state: State,
  collection: string,
  objects: Obj[],
  q: URLSearchParams,
  resolve: (collection: string, id: string) => Obj | undefined = () => undefined,
  prepare: (o: Obj) => Obj = (o) => o,
): Reply {
  const filters = filtersOf(q.getAll('filter'));
  const junction = (q.get('rootJunction') ?? 'AND').toUpperCase() === 'OR' ? 'OR' : 'AND';
  const matched = order(
    objects.filter((o) => matchesAll(o, filters, junction)),
    q.get('order'),
  );
  const fields = parseFields(q.getAll('fields').join(',') || 'id,displayName');
  const render = (list: Obj[]): Obj[] => list.map((o) => applyFields(prepare(o), fields, resolve));
  if ((q.get('paging') ?? 'true').toLowerCase() === 'false') {
    return { status: 200, body: { [collection]: render(matched) } };
  }
  const pageSize = Math.max(1, Number(q.get('pageSize')) || 50);
  const pageCount = Math.max(1, Math.ceil(matched.length / pageSize));
  const page = Math.min(Math.max(1, Number(q.get('page')) || 1), pageCount);
  const pager: Obj = { page, total: matched.length, pageSize, pageCount };
  if (page < pageCount) {
    const next = new URLSearchParams(q);
    next.set('page', String(page + 1));
    pager.nextPage = `${state.baseUrl}/api/${collection}?${next.toString()}`;
  }
  if (page > 1) {
    const prev = new URLSearchParams(q);
    prev.set('page', String(page - 1));
    pager.prevPage = `${state.baseUrl}/api/${collection}?${prev.toString()}`;
  }
  const slice = matched.slice((page - 1) * pageSize, page * pageSize);
  return { status: 200, body: { pager, [collection]: render(slice) } };
}

export function getObject(state: State, collection: string, id: string, q: URLSearchParams): Reply {
  const o = collectionObjects(state.store, collection).find((x) => x.id === id);
  if (!o) return webMessage(404, `${simpleName(klassOf(collection))} with id ${id} could not be found.`);
  const fields = parseFields(q.getAll('fields').join(',') || '*');
  return { status: 200, body: render(state, collection, [o], fields)[0] };
}

/** GET /api/metadata: `<collection>=true` selects, `<collection>:fields` / `<collection>:filter` refine. */
export function metadataExport(state: State, q: URLSearchParams): Reply {
  const selected = new Map<string, { fields: string[]; filters: string[] }>();
  for (const key of new Set(q.keys())) {
    const [collection, option] = key.split(':');
    if (!collection || !hasCollection(state.store, collection)) continue;
    const values = q.getAll(key);
    if (!option && !values.some((x) => x.toLowerCase() === 'true')) continue;
    const entry = selected.get(collection) ?? { fields: [], filters: [] };
    if (option === 'fields') entry.fields.push(...values);
    if (option === 'filter') entry.filters.push(...values);
    selected.set(collection, entry);
  }
  if (selected.size === 0) for (const c of state.store.collections()) selected.set(c, { fields: [], filters: [] });
  const globalFields = q.getAll('fields');
  const globalFilters = q.getAll('filter');
  const skipSharing = boolParam(q, 'skipSharing');
  const excludeDefaults = q.get('defaults') === 'EXCLUDE';
  const body: Obj = { system: systemBlock(state) };
  for (const [collection, { fields, filters }] of [...selected].sort(([a], [b]) => a.localeCompare(b))) {
    const fs = filtersOf(filters.length ? filters : globalFilters);
    let objects = collectionObjects(state.store, collection).filter((o) => matchesAll(o, fs, 'AND'));
    if (excludeDefaults) objects = objects.filter((o) => !DEFAULT_ID_SET.has(o.id as string));
    if (objects.length === 0) continue;
    const spec = parseFields((fields.length ? fields : globalFields).join(',') || ':owner');
    const rendered = render(state, collection, objects, spec);
    body[collection] = skipSharing ? rendered.map(stripSharingDeep) : rendered;
  }
  return { status: 200, body };
}
