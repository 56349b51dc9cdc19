/**
 * Tracker data: tracked entities, enrollments and events held in the emulator's State, imported by
 * `POST /api/tracker?async=false` (and EmulatorOptions.trackerData), read by `GET /api/tracker/events` and
 * `GET /api/tracker/trackedEntities` with the filters, paging and pager a real DHIS2 answers.
 *
 * Sources: the recorded real-2.43.1/tracker-*.json answers (test/fixtures/dhis2/real-2.43.1/README.md, "Tracker
 * data"), dhis2-core's source (classes named at each place) and, for what differs by version, version.ts.
 * What the emulator does NOT do is said where it matters: relationships, notes, program rules, async imports,
 * `order`, date and status parameters, ownership transfer, sharing and user scopes (every user is a superuser here).
 */
import { applyFields, parseFields } from './fields.ts';
import { generateUid, isValidUid } from './schema.ts';
import { now, reasonPhrase, type Reply, type State } from './state.ts';
import { clone, isObj, type Obj, type Store } from './store.ts';
import {
  eventFiltersCompareOptionNames,
  trackedEntitiesNeedProgramOrType,
  trackedEntitiesRequireOrgUnitOrMode,
  trackerEventsRequireProgram,
  trackerFiltersHaveEscapes,
  trackerFiltersHaveUnaryOperators,
  trackerOrgUnitModeParams,
  trackerPageShape,
  trackerPagerHasLinks,
  trackerPagingParams,
  trackerUidListParams,
  type Version,
} from './version.ts';

// ---------------------------------------------------------------------------------------------------------------------
// Records (what the accessor hands out; deep copies)

export interface TrackerAttributeValue {
  attribute: string;
  value: string;
}
export interface TrackerDataValue {
  dataElement: string;
  value: string;
}
export interface TrackedEntityRecord {
  trackedEntity: string;
  trackedEntityType: string;
  orgUnit: string;
  attributes: TrackerAttributeValue[];
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
}
export interface EnrollmentRecord {
  enrollment: string;
  trackedEntity: string;
  program: string;
  orgUnit: string;
  status: string;
  enrolledAt: string;
  occurredAt?: string;
  followUp: boolean;
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
}
export interface EventRecord {
  event: string;
  /** The enrollment and its tracked entity; every event the emulator stores belongs to a tracker program. */
  enrollment: string;
  trackedEntity: string;
  program: string;
  programStage: string;
  orgUnit: string;
  status: string;
  occurredAt?: string;
  scheduledAt?: string;
  dataValues: TrackerDataValue[];
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
}

export interface TrackerCounts {
  trackedEntities: number;
  enrollments: number;
  events: number;
}

/** `emu.tracker`: what the emulator holds (see types.ts). */
export interface TrackerDataView {
  /** Stored objects that are not soft-deleted. */
  counts(): TrackerCounts;
  trackedEntities(options?: { includeDeleted?: boolean }): TrackedEntityRecord[];
  enrollments(options?: { includeDeleted?: boolean }): EnrollmentRecord[];
  events(options?: { includeDeleted?: boolean }): EventRecord[];
}

interface Row<T> {
  /** The database id: the export's default order is by it, descending. */
  pk: number;
  rec: T;
}

/** The tracker part of State. */
export class TrackerData implements TrackerDataView {
  private pk = 0;
  readonly trackedEntityRows = new Map<string, Row<TrackedEntityRecord>>();
  readonly enrollmentRows = new Map<string, Row<EnrollmentRecord>>();
  readonly eventRows = new Map<string, Row<EventRecord>>();
  /**
   * trackedentityprogramowner: `${trackedEntity}/${program}` -> owner org unit, set by the first enrollment of the
   * tracked entity in the program (the owner is the enrollment's org unit) and never dropped here (ownership transfer
   * and its removal are not emulated).
   */
  readonly owners = new Map<string, string>();

  nextPk(): number {
    return ++this.pk;
  }

  counts(): TrackerCounts {
    const live = (m: Map<string, Row<{ deleted: boolean }>>): number =>
      [...m.values()].filter((r) => !r.rec.deleted).length;
    return {
      trackedEntities: live(this.trackedEntityRows),
      enrollments: live(this.enrollmentRows),
      events: live(this.eventRows),
    };
  }

  trackedEntities(options: { includeDeleted?: boolean } = {}): TrackedEntityRecord[] {
    return listRows(this.trackedEntityRows, options);
  }
  enrollments(options: { includeDeleted?: boolean } = {}): EnrollmentRecord[] {
    return listRows(this.enrollmentRows, options);
  }
  events(options: { includeDeleted?: boolean } = {}): EventRecord[] {
    return listRows(this.eventRows, options);
  }
}

function listRows<T extends { deleted: boolean }>(m: Map<string, Row<T>>, o: { includeDeleted?: boolean }): T[] {
  return [...m.values()]
    .sort((a, b) => a.pk - b.pk)
    .filter((r) => o.includeDeleted || !r.rec.deleted)
    .map((r) => clone(r.rec));
}

// ---------------------------------------------------------------------------------------------------------------------
// Answers

/** A BadRequestException: 400 WebMessage with errorCode E1003, Content-Type without charset (recorded
 * real-2.43.1/tracker-events-unknown-de.json and .headers.txt). */
function badRequest(message: string): Reply {
  return {
    status: 400,
    body: { httpStatus: 'Bad Request', httpStatusCode: 400, status: 'ERROR', message, errorCode: 'E1003' },
    contentType: 'application/json',
  };
}

/** An IllegalQueryException (up to 2.40): 409 WebMessage. */
function conflict(message: string): Reply {
  return {
    status: 409,
    body: { httpStatus: 'Conflict', httpStatusCode: 409, status: 'ERROR', message },
    contentType: 'application/json',
  };
}

/** Something a real server does that the emulator does not: said plainly rather than answered wrongly. */
function notEmulated(what: string): Reply {
  return {
    status: 501,
    body: {
      httpStatus: reasonPhrase(501),
      httpStatusCode: 501,
      status: 'ERROR',
      message: `Emulator: ${what} is not emulated`,
    },
  };
}

/**
 * Tomcat's error page for a status sent with response.sendError (Spring's DefaultHandlerExceptionResolver does so
 * for a MissingServletRequestParameterException; its detail is "Required parameter 'x' is not present."): byte for
 * byte the recorded real-2.43.1/tracker-events-no-program.txt, Content-Type text/html;charset=utf-8 and
 * Content-Language en as in its headers file.
 */
export function tomcatErrorPage(status: number, message: string): Reply {
  const title = `HTTP Status ${status} – ${reasonPhrase(status)}`;
  const escaped = message
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
  const description =
    status === 400
      ? 'The server cannot or will not process the request due to something that is perceived to be a client error (e.g., malformed request syntax, invalid request message framing, or deceptive request routing).'
      : reasonPhrase(status);
  const style =
    'body {font-family:Tahoma,Arial,sans-serif;} h1, h2, h3, b {color:white;background-color:#525D76;} h1 {font-size:22px;} h2 {font-size:16px;} h3 {font-size:14px;} p {font-size:12px;} a {color:black;} .line {height:1px;background-color:#525D76;border:none;}';
  const body =
    `<!doctype html><html lang="en"><head><title>${title}</title><style type="text/css">${style}</style></head>` +
    `<body><h1>${title}</h1><hr class="line" /><p><b>Type</b> Status Report</p><p><b>Message</b> ${escaped}</p>` +
    `<p><b>Description</b> ${description}</p><hr class="line" /><h3>Apache Tomcat/11.0.20</h3></body></html>`;
  return { status, body, contentType: 'text/html;charset=utf-8', headers: { 'Content-Language': 'en' } };
}

// ---------------------------------------------------------------------------------------------------------------------
// Metadata lookups

interface Meta {
  store: Store;
}

function get(m: Meta, collection: string, id: unknown): Obj | undefined {
  return typeof id === 'string' ? m.store.rawGet(collection, id) : undefined;
}

function refId(v: unknown): string | undefined {
  return isObj(v) && typeof v.id === 'string' ? v.id : undefined;
}

function programStagesOf(m: Meta, program: Obj): string[] {
  const listed = Array.isArray(program.programStages) ? program.programStages.map(refId) : [];
  const back = m.store.rawList('programStages').filter((s) => refId(s.program) === program.id);
  return [...new Set([...listed, ...back.map((s) => s.id as string)].filter((x): x is string => !!x))];
}

function stageDataElements(stage: Obj): string[] {
  const psdes = Array.isArray(stage.programStageDataElements) ? stage.programStageDataElements : [];
  return psdes.map((p) => (isObj(p) ? refId(p.dataElement) : undefined)).filter((x): x is string => !!x);
}

function isRegistration(program: Obj): boolean {
  return program.programType !== 'WITHOUT_REGISTRATION';
}

/** The path of an org unit (`/root/.../id`), from `path` or by walking `parent`. */
function orgUnitPath(m: Meta, id: string): string[] {
  const ou = get(m, 'organisationUnits', id);
  if (ou && typeof ou.path === 'string' && ou.path.startsWith('/')) return ou.path.split('/').filter((x) => x);
  const out: string[] = [];
  let cur: Obj | undefined = ou;
  const seen = new Set<string>();
  while (cur && typeof cur.id === 'string' && !seen.has(cur.id)) {
    seen.add(cur.id);
    out.unshift(cur.id);
    cur = get(m, 'organisationUnits', refId(cur.parent));
  }
  return out.length ? out : [id];
}

// ---------------------------------------------------------------------------------------------------------------------
// POST /api/tracker

type Strategy = 'CREATE' | 'UPDATE' | 'CREATE_AND_UPDATE' | 'DELETE';
type TrackerType = 'TRACKED_ENTITY' | 'ENROLLMENT' | 'EVENT' | 'RELATIONSHIP';

export interface TrackerImportParams {
  importStrategy: Strategy;
  importMode: 'COMMIT' | 'VALIDATE';
}

interface ImportError {
  message: string;
  errorCode: string;
  trackerType: TrackerType;
  uid: string;
  args: string[];
}

/**
 * The request parameters of POST /api/tracker (webapi/controller/tracker/imports/RequestParams; invalid values answer
 * 400 "Value 'X' is not valid for parameter p. Valid values are: [...]", TrackerImportControllerTest). `async`
 * parses case-insensitively ("false", "FALSE", "FaLSE" are all sync in that test); only async=false is emulated (the
 * default, async=true, schedules a TRACKER_IMPORT_JOB: not emulated, answered 501). atomicMode=OBJECT,
 * reportMode, idScheme, flushMode, validationMode and the skip* switches are not emulated either: the emulator always
 * imports as atomicMode=ALL, reportMode=ERRORS, idScheme=UID.
 */
export function parseTrackerImportParams(q: URLSearchParams): TrackerImportParams | Reply {
  const async = q.get('async');
  if (async !== null && !/^(true|false)$/i.test(async)) {
    return badRequest(`Value '${async}' is not valid for parameter async. It should be of type boolean`);
  }
  if (async === null || async.toLowerCase() !== 'false') return notEmulated('POST /api/tracker with async=true');
  const enumParam = <T extends string>(name: string, values: readonly T[], dflt: T): T | Reply => {
    const v = q.get(name);
    if (v === null) return dflt;
    const t = v.trim() as T;
    if (values.includes(t)) return t;
    return badRequest(`Value '${v}' is not valid for parameter ${name}. Valid values are: [${values.join(', ')}]`);
  };
  const importStrategy = enumParam(
    'importStrategy',
    ['CREATE', 'UPDATE', 'CREATE_AND_UPDATE', 'DELETE'],
    'CREATE_AND_UPDATE',
  );
  if (typeof importStrategy !== 'string') return importStrategy;
  const importMode = enumParam('importMode', ['COMMIT', 'VALIDATE'], 'COMMIT');
  if (typeof importMode !== 'string') return importMode;
  const atomicMode = enumParam('atomicMode', ['ALL', 'OBJECT'], 'ALL');
  if (typeof atomicMode !== 'string') return atomicMode;
  if (atomicMode === 'OBJECT') return notEmulated('atomicMode=OBJECT');
  return { importStrategy, importMode };
}

interface Flat {
  trackedEntities: Obj[];
  enrollments: Obj[];
  events: Obj[];
  relationships: unknown[];
}

const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/**
 * BodyConverter (webapi/controller/tracker/imports): nested enrollments of a tracked entity and nested events of an
 * enrollment are pulled out (tracked entities; enrollments nested first, then top-level ones; events nested in the
 * enrollments in that order, then top-level ones), each child taking its parent's uid as its trackedEntity /
 * enrollment, and a missing uid is generated (UID.generate()).
 */
function flatten(body: Obj): Flat {
  const out: Flat = { trackedEntities: [], enrollments: [], events: [], relationships: [] };
  const uid = (v: unknown): unknown => (v === undefined || v === null || v === '' ? generateUid() : v);
  for (const te of objs(body.trackedEntities)) {
    const { enrollments, relationships, ...rest } = te;
    rest.trackedEntity = uid(rest.trackedEntity);
    out.trackedEntities.push(rest);
    for (const en of objs(enrollments))
      out.enrollments.push({ ...en, enrollment: uid(en.enrollment), trackedEntity: rest.trackedEntity });
    if (Array.isArray(relationships)) out.relationships.push(...relationships);
  }
  for (const en of objs(body.enrollments)) out.enrollments.push({ ...en, enrollment: uid(en.enrollment) });
  for (const en of out.enrollments) {
    const events = en.events;
    delete en.events;
    if (Array.isArray(en.relationships)) out.relationships.push(...en.relationships);
    delete en.relationships;
    for (const ev of objs(events)) out.events.push({ ...ev, event: uid(ev.event), enrollment: en.enrollment });
  }
  for (const ev of objs(body.events)) out.events.push({ ...ev, event: uid(ev.event) });
  for (const ev of out.events) {
    if (Array.isArray(ev.relationships)) out.relationships.push(...ev.relationships);
    delete ev.relationships;
  }
  if (Array.isArray(body.relationships)) out.relationships.push(...body.relationships);
  return out;
}

/** Jackson refusing a uid that is no UID (TrackerImportControllerTest shouldReturnBadRequestWhenThereIsAnInvalidUidInThePayload). */
function invalidUid(flat: Flat): string | undefined {
  const ids = [
    ...flat.trackedEntities.map((o) => o.trackedEntity),
    ...flat.enrollments.flatMap((o) => [o.enrollment, o.trackedEntity]),
    ...flat.events.flatMap((o) => [o.event, o.enrollment]),
  ];
  for (const id of ids) {
    if (id === undefined || id === null) continue;
    if (!isValidUid(id)) return String(id);
  }
  return undefined;
}

/**
 * The messages of dhis2-core's tracker ValidationCode (dhis-service-tracker .../imports/validation/ValidationCode.java,
 * the version with TrackedEntity wording and E1318 "not applicable for single events", i.e. after the 2.43 split of
 * tracker and single events); `{n}` are the args.
 */
const VALIDATION_CODES: Record<string, string> = {
  E1002: 'TrackedEntity: `{0}`, already exists.',
  E1005: 'Could not find TrackedEntityType: `{0}`.',
  E1006: 'Attribute: `{0}` does not exist.',
  E1010: 'Could not find Program: `{0}`, linked to Event.',
  E1011: 'Could not find OrganisationUnit: `{0}`, linked to Event.',
  E1013: 'Could not find ProgramStage: `{0}`, linked to Event.',
  E1014:
    'Provided Program: `{0}` is a Program without registration. An Enrollment cannot be created into Program without registration.',
  E1025: 'Property enrolledAt is null.',
  E1030: 'Event: `{0}` already exists.',
  E1032: 'Event: `{0}` do not exist.',
  E1033: 'Event: `{0}` Enrollment value is null.',
  E1049: 'Could not find OrganisationUnit: `{0}` linked to TrackedEntity.',
  E1063: 'TrackedEntity: `{0}`, does not exist.',
  E1068: 'Could not find TrackedEntity: `{0}` linked to Enrollment.',
  E1069: 'Could not find Program: `{0}` linked to Enrollment.',
  E1070: 'Could not find OrganisationUnit: `{0}` linked to Enrollment.',
  E1080: 'Enrollment: `{0}` already exists.',
  E1081: 'Enrollment: `{0}` do not exist.',
  E1082: 'Event: `{0}` is already deleted and cannot be modified.',
  E1089: 'Event: `{0}` references ProgramStage `{1}` which do not belong to Program `{2}`.',
  E1113: 'Enrollment: `{0}` is already deleted and cannot be modified.',
  E1114: 'TrackedEntity: `{0}` is already deleted and cannot be modified.',
  E1121: 'Missing required trackedEntity property: `{0}`.',
  E1122: 'Missing required enrollment property: `{0}`.',
  E1123: 'Missing required event property: `{0}`.',
  E1125: 'Value `{0}` is not a valid option code in OptionSet `{1}`.',
  E1304: 'DataElement `{0}` is not a valid DataElement.',
  E1305: 'DataElement `{0}` is not part of ProgramStage `{1}`.',
};

function error(code: string, trackerType: TrackerType, uid: string, ...args: string[]): ImportError {
  const message = (VALIDATION_CODES[code] ?? code).replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)] ?? '');
  return { message, errorCode: code, trackerType, uid, args };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A value as DHIS2 stores it: JSON numbers and booleans become their text. */
function valueText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function optionCodes(m: Meta, optionSetId: string | undefined): Set<string> | undefined {
  const os = get(m, 'optionSets', optionSetId);
  if (!os) return undefined;
  const listed = Array.isArray(os.options) ? os.options.map(refId) : [];
  const back = m.store.rawList('options').filter((o) => refId(o.optionSet) === os.id);
  const codes = new Set<string>();
  for (const id of new Set([...listed, ...back.map((o) => o.id as string)])) {
    const o = get(m, 'options', id);
    if (o && typeof o.code === 'string') codes.add(o.code);
  }
  return codes;
}

/**
 * The minimal validation (ValidationCode above): existence by import strategy (E1002/E1063/E1114, E1080/E1081/E1113,
 * E1030/E1032/E1082), required properties (E1121/E1122/E1123, E1025), references to metadata that must exist
 * (E1005, E1049, E1069, E1070, E1010, E1011, E1013, E1006 for attributes, E1304 for data elements), an enrollment
 * into a program without registration (E1014), an event whose stage is not one of its program's (E1089), a data
 * element that is not in the event's stage (E1305) and option codes (E1125, compared exactly; whether DHIS2 ignores
 * case there was not checked). DELETE checks existence only. Not
 * checked: access, ownership, dates, statuses, unique and mandatory attributes, value types.
 */
function validate(state: State, flat: Flat, strategy: Strategy): ImportError[] {
  const m: Meta = { store: state.store };
  const t = state.tracker;
  const errors: ImportError[] = [];
  const teInPayload = new Set(flat.trackedEntities.map((o) => o.trackedEntity as string));
  const codesCache = new Map<string | undefined, Set<string> | undefined>();
  const optionCodesOf = (optionSetId: string | undefined): Set<string> | undefined => {
    if (!codesCache.has(optionSetId)) codesCache.set(optionSetId, optionCodes(m, optionSetId));
    return codesCache.get(optionSetId);
  };
  const stagesCache = new Map<Obj, string[]>();
  const stagesOf = (program: Obj): string[] => {
    if (!stagesCache.has(program)) stagesCache.set(program, programStagesOf(m, program));
    return stagesCache.get(program)!;
  };

  const existence = (
    type: TrackerType,
    uid: string,
    stored: Row<{ deleted: boolean }> | undefined,
    codes: { exists: string; missing: string; deleted: string },
  ): boolean => {
    if (strategy === 'CREATE' && stored) {
      errors.push(error(codes.exists, type, uid, uid));
      return false;
    }
    if ((strategy === 'UPDATE' || strategy === 'DELETE') && !stored) {
      errors.push(error(codes.missing, type, uid, uid));
      return false;
    }
    if (strategy !== 'CREATE' && stored?.rec.deleted) {
      errors.push(error(codes.deleted, type, uid, uid));
      return false;
    }
    return true;
  };

  const attributes = (type: TrackerType, uid: string, list: unknown): void => {
    for (const a of objs(list)) {
      const tea = get(m, 'trackedEntityAttributes', str(a.attribute));
      if (!tea) {
        errors.push(error('E1006', type, uid, String(a.attribute)));
        continue;
      }
      const value = valueText(a.value);
      const codes = optionCodesOf(refId(tea.optionSet));
      if (value !== undefined && value !== '' && codes && !codes.has(value)) {
        errors.push(error('E1125', type, uid, value, refId(tea.optionSet)!));
      }
    }
  };

  for (const te of flat.trackedEntities) {
    const uid = te.trackedEntity as string;
    const ok = existence('TRACKED_ENTITY', uid, t.trackedEntityRows.get(uid), {
      exists: 'E1002',
      missing: 'E1063',
      deleted: 'E1114',
    });
    if (!ok || strategy === 'DELETE') continue;
    const tet = str(te.trackedEntityType);
    if (!tet) errors.push(error('E1121', 'TRACKED_ENTITY', uid, 'trackedEntityType'));
    else if (!get(m, 'trackedEntityTypes', tet)) errors.push(error('E1005', 'TRACKED_ENTITY', uid, tet));
    const ou = str(te.orgUnit);
    if (!ou) errors.push(error('E1121', 'TRACKED_ENTITY', uid, 'orgUnit'));
    else if (!get(m, 'organisationUnits', ou)) errors.push(error('E1049', 'TRACKED_ENTITY', uid, ou));
    attributes('TRACKED_ENTITY', uid, te.attributes);
  }

  for (const en of flat.enrollments) {
    const uid = en.enrollment as string;
    const ok = existence('ENROLLMENT', uid, t.enrollmentRows.get(uid), {
      exists: 'E1080',
      missing: 'E1081',
      deleted: 'E1113',
    });
    if (!ok || strategy === 'DELETE') continue;
    const programId = str(en.program);
    const program = get(m, 'programs', programId);
    if (!programId) errors.push(error('E1122', 'ENROLLMENT', uid, 'program'));
    else if (!program) errors.push(error('E1069', 'ENROLLMENT', uid, programId));
    else if (!isRegistration(program)) errors.push(error('E1014', 'ENROLLMENT', uid, programId));
    const ou = str(en.orgUnit);
    if (!ou) errors.push(error('E1122', 'ENROLLMENT', uid, 'orgUnit'));
    else if (!get(m, 'organisationUnits', ou)) errors.push(error('E1070', 'ENROLLMENT', uid, ou));
    const te = str(en.trackedEntity);
    if (!te) errors.push(error('E1122', 'ENROLLMENT', uid, 'trackedEntity'));
    else if (!teInPayload.has(te) && !t.trackedEntityRows.get(te)) errors.push(error('E1068', 'ENROLLMENT', uid, te));
    if (!str(en.enrolledAt) && !t.enrollmentRows.has(uid)) errors.push(error('E1025', 'ENROLLMENT', uid));
    attributes('ENROLLMENT', uid, en.attributes);
  }

  for (const ev of flat.events) {
    const uid = ev.event as string;
    const ok = existence('EVENT', uid, t.eventRows.get(uid), { exists: 'E1030', missing: 'E1032', deleted: 'E1082' });
    if (!ok || strategy === 'DELETE') continue;
    const stageId = str(ev.programStage);
    const stage = get(m, 'programStages', stageId);
    if (!stageId) errors.push(error('E1123', 'EVENT', uid, 'programStage'));
    else if (!stage) errors.push(error('E1013', 'EVENT', uid, stageId));
    const programId = str(ev.program) ?? refId(stage?.program);
    const program = get(m, 'programs', programId);
    if (programId && !program) errors.push(error('E1010', 'EVENT', uid, programId));
    if (program && stage && !stagesOf(program).includes(stage.id as string)) {
      errors.push(error('E1089', 'EVENT', uid, uid, stage.id as string, program.id as string));
    }
    const ou = str(ev.orgUnit);
    if (!ou) errors.push(error('E1123', 'EVENT', uid, 'orgUnit'));
    else if (!get(m, 'organisationUnits', ou)) errors.push(error('E1011', 'EVENT', uid, ou));
    if (program && isRegistration(program) && !str(ev.enrollment)) errors.push(error('E1033', 'EVENT', uid, uid));
    const inStage = stage ? new Set(stageDataElements(stage)) : undefined;
    for (const dv of objs(ev.dataValues)) {
      const de = get(m, 'dataElements', str(dv.dataElement));
      if (!de) {
        errors.push(error('E1304', 'EVENT', uid, String(dv.dataElement)));
        continue;
      }
      if (inStage && !inStage.has(de.id as string))
        errors.push(error('E1305', 'EVENT', uid, de.id as string, stageId!));
      const value = valueText(dv.value);
      const codes = optionCodesOf(refId(de.optionSet));
      if (value !== undefined && value !== '' && codes && !codes.has(value)) {
        errors.push(error('E1125', 'EVENT', uid, value, refId(de.optionSet)!));
      }
    }
  }
  return errors;
}

interface TypeStats {
  created: number;
  updated: number;
  deleted: number;
  ignored: number;
}
const zero = (): TypeStats => ({ created: 0, updated: 0, deleted: 0, ignored: 0 });
const withTotal = (s: TypeStats): Obj => ({ ...s, total: s.created + s.updated + s.deleted + s.ignored });

/**
 * Merges `list` of {key, value} into `current` by key: a given value replaces, an empty or null one deletes, what the
 * payload does not name stays (the tracker persisters handle only the attribute / data values in the payload).
 */
function mergeByKey(current: Record<string, string>[], list: unknown, key: string): Record<string, string>[] {
  const out = new Map<string, Record<string, string>>();
  for (const c of current) out.set(c[key]!, { ...c });
  for (const x of objs(list)) {
    const k = str(x[key]);
    if (!k) continue;
    const v = valueText(x.value);
    if (v === undefined || v === '') out.delete(k);
    else out.set(k, { [key]: k, value: v });
  }
  return [...out.values()];
}
const mergeAttributes = (current: TrackerAttributeValue[], list: unknown): TrackerAttributeValue[] =>
  mergeByKey(current as unknown as Record<string, string>[], list, 'attribute') as unknown as TrackerAttributeValue[];
const mergeDataValues = (current: TrackerDataValue[], list: unknown): TrackerDataValue[] =>
  mergeByKey(current as unknown as Record<string, string>[], list, 'dataElement') as unknown as TrackerDataValue[];

function commit(
  state: State,
  flat: Flat,
  strategy: Strategy,
): Record<TrackerType, { stats: TypeStats; uids: string[] }> {
  const t = state.tracker;
  const at = now();
  const report = {
    TRACKED_ENTITY: { stats: zero(), uids: [] as string[] },
    ENROLLMENT: { stats: zero(), uids: [] as string[] },
    EVENT: { stats: zero(), uids: [] as string[] },
    RELATIONSHIP: { stats: zero(), uids: [] as string[] },
  };
  if (strategy === 'DELETE') {
    // Children first is not needed in memory; deleting a tracked entity soft-deletes its enrollments and events, an
    // enrollment its events (the cascade behind ValidationCode E1100/E1103 "lacks 'F_TEI_CASCADE_DELETE' /
    // 'F_ENROLLMENT_CASCADE_DELETE' authority"; the emulator's users have ALL). The stats count what the payload named.
    const softDelete = (r: Row<{ deleted: boolean; updatedAt: string }> | undefined): void => {
      if (r) r.rec = { ...r.rec, deleted: true, updatedAt: at };
    };
    for (const ev of flat.events) {
      softDelete(t.eventRows.get(ev.event as string));
      report.EVENT.stats.deleted++;
      report.EVENT.uids.push(ev.event as string);
    }
    for (const en of flat.enrollments) {
      const id = en.enrollment as string;
      softDelete(t.enrollmentRows.get(id));
      for (const r of t.eventRows.values()) if (r.rec.enrollment === id) softDelete(r);
      report.ENROLLMENT.stats.deleted++;
      report.ENROLLMENT.uids.push(id);
    }
    for (const te of flat.trackedEntities) {
      const id = te.trackedEntity as string;
      softDelete(t.trackedEntityRows.get(id));
      for (const r of t.enrollmentRows.values()) if (r.rec.trackedEntity === id) softDelete(r);
      for (const r of t.eventRows.values()) if (r.rec.trackedEntity === id) softDelete(r);
      report.TRACKED_ENTITY.stats.deleted++;
      report.TRACKED_ENTITY.uids.push(id);
    }
    return report;
  }
  for (const te of flat.trackedEntities) {
    const id = te.trackedEntity as string;
    const row = t.trackedEntityRows.get(id);
    const base: TrackedEntityRecord = row?.rec ?? {
      trackedEntity: id,
      trackedEntityType: '',
      orgUnit: '',
      attributes: [],
      createdAt: at,
      updatedAt: at,
      deleted: false,
    };
    const rec: TrackedEntityRecord = {
      ...base,
      trackedEntityType: str(te.trackedEntityType) ?? base.trackedEntityType,
      orgUnit: str(te.orgUnit) ?? base.orgUnit,
      attributes: mergeAttributes(base.attributes, te.attributes),
      updatedAt: at,
    };
    if (row) row.rec = rec;
    else t.trackedEntityRows.set(id, { pk: t.nextPk(), rec });
    report.TRACKED_ENTITY.stats[row ? 'updated' : 'created']++;
    report.TRACKED_ENTITY.uids.push(id);
  }
  for (const en of flat.enrollments) {
    const id = en.enrollment as string;
    const row = t.enrollmentRows.get(id);
    const base: EnrollmentRecord = row?.rec ?? {
      enrollment: id,
      trackedEntity: '',
      program: '',
      orgUnit: '',
      status: 'ACTIVE',
      enrolledAt: '',
      followUp: false,
      createdAt: at,
      updatedAt: at,
      deleted: false,
    };
    const rec: EnrollmentRecord = {
      ...base,
      trackedEntity: str(en.trackedEntity) ?? base.trackedEntity,
      program: str(en.program) ?? base.program,
      orgUnit: str(en.orgUnit) ?? base.orgUnit,
      status: str(en.status) ?? base.status,
      enrolledAt: str(en.enrolledAt) ?? base.enrolledAt,
      followUp: typeof en.followUp === 'boolean' ? en.followUp : base.followUp,
      updatedAt: at,
    };
    const occurredAt = str(en.occurredAt) ?? base.occurredAt;
    if (occurredAt !== undefined) rec.occurredAt = occurredAt;
    if (row) row.rec = rec;
    else t.enrollmentRows.set(id, { pk: t.nextPk(), rec });
    const ownerKey = `${rec.trackedEntity}/${rec.program}`;
    if (!t.owners.has(ownerKey)) t.owners.set(ownerKey, rec.orgUnit);
    // Enrollment attributes are program attributes: values of the tracked entity (TrackedEntityAttributeValue).
    const teRow = t.trackedEntityRows.get(rec.trackedEntity);
    if (teRow && Array.isArray(en.attributes)) {
      teRow.rec = { ...teRow.rec, attributes: mergeAttributes(teRow.rec.attributes, en.attributes) };
    }
    report.ENROLLMENT.stats[row ? 'updated' : 'created']++;
    report.ENROLLMENT.uids.push(id);
  }
  for (const ev of flat.events) {
    const id = ev.event as string;
    const row = t.eventRows.get(id);
    const stage = state.store.rawGet('programStages', str(ev.programStage) ?? row?.rec.programStage ?? '');
    const enrollmentId = str(ev.enrollment) ?? row?.rec.enrollment ?? '';
    const enrollment = t.enrollmentRows.get(enrollmentId)?.rec;
    const base: EventRecord = row?.rec ?? {
      event: id,
      enrollment: enrollmentId,
      trackedEntity: enrollment?.trackedEntity ?? '',
      program: '',
      programStage: '',
      orgUnit: '',
      status: 'ACTIVE',
      dataValues: [],
      createdAt: at,
      updatedAt: at,
      deleted: false,
    };
    const rec: EventRecord = {
      ...base,
      enrollment: enrollmentId,
      trackedEntity: enrollment?.trackedEntity ?? base.trackedEntity,
      program: str(ev.program) ?? refId(stage?.program) ?? base.program,
      programStage: str(ev.programStage) ?? base.programStage,
      orgUnit: str(ev.orgUnit) ?? base.orgUnit,
      status: str(ev.status) ?? base.status,
      dataValues: mergeDataValues(base.dataValues, ev.dataValues),
      updatedAt: at,
    };
    const occurredAt = str(ev.occurredAt) ?? base.occurredAt;
    if (occurredAt !== undefined) rec.occurredAt = occurredAt;
    const scheduledAt = str(ev.scheduledAt) ?? base.scheduledAt;
    if (scheduledAt !== undefined) rec.scheduledAt = scheduledAt;
    if (row) row.rec = rec;
    else t.eventRows.set(id, { pk: t.nextPk(), rec });
    report.EVENT.stats[row ? 'updated' : 'created']++;
    report.EVENT.uids.push(id);
  }
  return report;
}

export interface TrackerImportOutcome {
  status: number;
  report: Obj;
}

/**
 * Imports a tracker payload (`{trackedEntities, enrollments?, events?}`, nested or flat) as
 * DefaultTrackerImportService.importTracker does with atomicMode=ALL, and answers the 2.43 ImportReport
 * (dhis-service-tracker org.hisp.dhis.tracker.imports.report.ImportReport: status, validationReport {errorReports,
 * warningReports}, stats {created, updated, deleted, ignored, total}, bundleReport (PersistenceReport: typeReportMap
 * of TRACKED_ENTITY, ENROLLMENT, EVENT and RELATIONSHIP TrackerTypeReports {trackerType, stats, objectReports}),
 * message; nulls left out as DHIS2's JSON mapper does):
 * - validation errors: ImportReport.withValidationErrors, status ERROR, every object ignored, no bundleReport; the
 *   controller answers 409 (TrackerImportController.syncPostJsonTracker: ERROR → CONFLICT);
 * - otherwise ImportReport.withImportCompleted, status OK, 200; importMode=VALIDATE commits nothing and has an empty
 *   typeReportMap (DefaultTrackerBundleService.commit; TrackerImportControllerTest.shouldImportSync).
 * reportMode=ERRORS (the default): warnings are left out of the validationReport (buildImportReport).
 * Each Error is {message, errorCode, trackerType, uid, args} (report/Error.java); each object report
 * {trackerType, uid, errorReports} (report/Entity.java; whether the 2.43 persisters also set `index` was not found).
 */
export function importTracker(state: State, params: TrackerImportParams, body: unknown): TrackerImportOutcome | Reply {
  if (!isObj(body)) return badRequest('JSON parse error: the request body is not a JSON object');
  const flat = flatten(clone(body));
  const bad = invalidUid(flat);
  if (bad !== undefined) {
    return badRequest(
      'JSON parse error: Cannot construct instance of `org.hisp.dhis.common.UID`, problem: UID must be an alphanumeric ' +
        `string of 11 characters starting with a letter, but was: ${bad}`,
    );
  }
  if (flat.relationships.length > 0) return notEmulated('importing relationships');
  const m: Meta = { store: state.store };
  for (const ev of flat.events) {
    const program = get(
      m,
      'programs',
      str(ev.program) ?? refId(get(m, 'programStages', str(ev.programStage))?.program),
    );
    if (program && !isRegistration(program)) return notEmulated('importing events of programs without registration');
  }
  const strategy = params.importStrategy;
  const size = flat.trackedEntities.length + flat.enrollments.length + flat.events.length;
  const errors = validate(state, flat, strategy);
  if (errors.length > 0) {
    return {
      status: 409,
      report: {
        status: 'ERROR',
        validationReport: { errorReports: errors, warningReports: [] },
        stats: withTotal({ ...zero(), ignored: size }),
      },
    };
  }
  if (params.importMode === 'VALIDATE') {
    return {
      status: 200,
      report: {
        status: 'OK',
        validationReport: { errorReports: [], warningReports: [] },
        stats: withTotal(zero()),
        bundleReport: { typeReportMap: {} },
      },
    };
  }
  const done = commit(state, flat, strategy);
  const total = zero();
  const typeReportMap: Obj = {};
  for (const [type, { stats, uids }] of Object.entries(done) as [TrackerType, { stats: TypeStats; uids: string[] }][]) {
    for (const k of ['created', 'updated', 'deleted', 'ignored'] as const) total[k] += stats[k];
    typeReportMap[type] = {
      trackerType: type,
      stats: withTotal(stats),
      objectReports: uids.map((uid) => ({ trackerType: type, uid, errorReports: [] })),
    };
  }
  return {
    status: 200,
    report: {
      status: 'OK',
      validationReport: { errorReports: [], warningReports: [] },
      stats: withTotal(total),
      bundleReport: { typeReportMap },
    },
  };
}

/** EmulatorOptions.trackerData: the nested `trackedEntities` array (as tracker-data-created.json) or `{trackedEntities}`. */
export function seedTracker(state: State, data: unknown): void {
  const body = Array.isArray(data) ? { trackedEntities: data } : data;
  if (!isObj(body)) throw new Error('Emulator: trackerData must be an array of tracked entities or {trackedEntities}');
  const out = importTracker(state, { importStrategy: 'CREATE', importMode: 'COMMIT' }, body);
  if (!('report' in out)) throw new Error(`Emulator: trackerData refused: ${JSON.stringify(out.body)}`);
  if (out.status !== 200) {
    throw new Error(
      `Emulator: trackerData refused: ${JSON.stringify((out.report.validationReport as Obj).errorReports)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Filters

/** QueryOperator constants (dhis-api org.hisp.dhis.common.QueryOperator), NULL/NNULL unary. */
const OPERATORS = [
  'EQ',
  'GT',
  'GE',
  'LT',
  'LE',
  'LIKE',
  'IN',
  'SW',
  'EW',
  'NULL',
  'NNULL',
  'IEQ',
  'NE',
  'NEQ',
  'NIEQ',
  'NLIKE',
  'ILIKE',
  'NILIKE',
] as const;
type Operator = (typeof OPERATORS)[number];
const UNARY: ReadonlySet<Operator> = new Set(['NULL', 'NNULL']);
/** castOperand of QueryOperator: EQ, GT, GE, LT, LE, IN, NE, NEQ compare with the value type's semantics. */
const CAST: ReadonlySet<Operator> = new Set(['EQ', 'GT', 'GE', 'LT', 'LE', 'IN', 'NE', 'NEQ']);

export interface QueryFilter {
  op: Operator;
  value?: string;
}
/** UID -> its filters (none: the bare `uid` form), in input order. */
export type Filters = Map<string, QueryFilter[]>;

export class FilterParseError extends Error {}

/** QueryOperator.fromString: `!x` is `Nx`, "NE" (exactly) is NEQ, otherwise valueOf(upper case); blank is null. */
function operatorOf(s: string | undefined): Operator | null {
  if (s === undefined || s.trim() === '') return null;
  let name: string;
  if (s.trim().startsWith('!')) name = `N${s.replace('!', '').toUpperCase()}`;
  else if (s.trim() === 'NE') name = 'NEQ';
  else name = s.toUpperCase();
  if (!(OPERATORS as readonly string[]).includes(name)) throw new FilterParseError(`'${s}' is not a valid operator.`);
  return name as Operator;
}

function parseUid(s: string): string {
  if (!isValidUid(s)) {
    throw new FilterParseError(
      `UID must be an alphanumeric string of 11 characters starting with a letter, but was: ${s}`,
    );
  }
  return s;
}

/**
 * The single-pass parser of 2.42+ (webapi/controller/tracker/export/FilterParser.java):
 * `uid[:op[:value]][,uid[:op[:value]]]`, up to three operators per uid, `/` escaping `/`, `:` and `,` in values;
 * values keep everything else as given (`;` separates the values of `in`, and cannot be escaped).
 */
function parseFiltersSinglePass(input: string): Filters {
  const result: Filters = new Map();
  if (input.trim() === '') return result;
  const add = (uid: string | null, operator: string | null, valueOrOperator: string | null): void => {
    if (uid === null) return;
    if (!result.has(uid)) result.set(uid, []);
    if (operator === null) return;
    const list = result.get(uid)!;
    const op = operatorOf(operator);
    if (op === null) throw new FilterParseError(`UID '${uid}' is missing an operator (or has too many ':').`);
    const next = tryOperator(valueOrOperator);
    if (UNARY.has(op)) {
      if (valueOrOperator !== null && valueOrOperator !== '' && next === null) {
        throw new FilterParseError(`Unary operator '${operator}' cannot have a value.`);
      }
      list.push({ op });
      if (next !== null && UNARY.has(next)) list.push({ op: next });
      else if (next !== null) throw new FilterParseError(`Binary operator '${valueOrOperator}' must have a value.`);
    } else {
      if (valueOrOperator === null || valueOrOperator === '') {
        throw new FilterParseError(`Binary operator '${operator}' must have a value.`);
      }
      list.push({ op, value: valueOrOperator.replaceAll('//', '/').replaceAll('/,', ',').replaceAll('/:', ':') });
    }
    if (list.length > 3) throw new FilterParseError('A maximum of three operators can be used in a filter.');
  };
  let start = 0;
  let end = 0;
  let uid: string | null = null;
  let operator: string | null = null;
  let valueOrOperator: string | null = null;
  const chars = [...input];
  const length = chars.length;
  while (end < length) {
    const cur = chars[end]!;
    if (cur === '/' && end + 1 < length) {
      const next = chars[end + 1]!;
      if (next === '/' || next === ':' || next === ',') {
        end += 2;
        continue;
      }
    }
    if (cur === ':' || cur === ',') {
      const segment = chars.slice(start, end).join('');
      if (uid === null && (cur === ':' || end - start > 0)) uid = parseUid(segment);
      else if (operator === null) operator = segment;
      else valueOrOperator = segment;
      start = end + 1;
    }
    if (cur === ',') {
      add(uid, operator, valueOrOperator);
      uid = null;
      operator = null;
      valueOrOperator = null;
    } else if (cur === ':' && valueOrOperator !== null) {
      const op = operatorOf(operator ?? undefined);
      if (op === null) throw new FilterParseError(`UID '${uid}' is missing an operator (or has too many ':').`);
      if (UNARY.has(op)) {
        if (valueOrOperator !== '' && tryOperator(valueOrOperator) === null) {
          throw new FilterParseError(`Unary operator '${operator}' cannot have a value.`);
        }
        add(uid, operator, null);
        operator = valueOrOperator;
      } else {
        add(uid, operator, valueOrOperator);
        operator = null;
      }
      valueOrOperator = null;
    }
    end++;
  }
  if (start < end) {
    const segment = chars.slice(start, end).join('');
    if (uid === null) uid = parseUid(segment);
    else if (operator === null) operator = segment;
    else valueOrOperator = segment;
  }
  add(uid, operator, valueOrOperator);
  return result;
}

function tryOperator(s: string | null): Operator | null {
  try {
    return operatorOf(s ?? undefined);
  } catch {
    return null;
  }
}

/** Java's String.split(regex): trailing empty strings removed. */
function javaSplit(s: string, re: RegExp): string[] {
  const parts = s.split(re);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The parser before 2.42 (RequestParamUtils / RequestParamsValidator parseQueryItem): items split on `,` and each on
 * `:` (not after a `/` where escapes exist), then `uid` alone or `uid:op:value[:op:value]` (2 or 4 segments), anything
 * else "Query item or filter is invalid: <item>"; an empty operator or value, or an unknown operator, too. No unary
 * operators: `uid:!null` is one segment after the uid, so invalid.
 */
function parseFiltersSegments(input: string, escapes: boolean): Filters {
  const result: Filters = new Map();
  if (input === '') return result;
  const listSplit = escapes ? /(?<!\/),/ : /,/;
  const itemSplit = escapes ? /(?<!\/):/ : /:/;
  for (const item of javaSplit(input, listSplit)) {
    const uidIndex = item.indexOf(':') + 1;
    if (uidIndex === 0 || item.length === uidIndex) {
      const uid = item.replaceAll(':', '');
      if (!result.has(uid)) result.set(uid, []);
      continue;
    }
    const uid = item.slice(0, uidIndex - 1);
    if (!result.has(uid)) result.set(uid, []);
    const segments = javaSplit(item.slice(uidIndex), itemSplit);
    if (segments.length !== 2 && segments.length !== 4)
      throw new FilterParseError(`Query item or filter is invalid: ${item}`);
    for (let i = 0; i < segments.length; i += 2) {
      const [operator, value] = [segments[i]!, segments[i + 1]!];
      if (operator === '' || value === '') throw new FilterParseError(`Query item or filter is invalid: ${item}`);
      let op: Operator | null;
      try {
        op = operatorOf(operator);
      } catch {
        throw new FilterParseError(`Query item or filter is invalid: ${item}`);
      }
      if (op === null || UNARY.has(op)) throw new FilterParseError(`Query item or filter is invalid: ${item}`);
      result.get(uid)!.push({ op, value: escapes ? value.replaceAll('/,', ',').replaceAll('/:', ':') : value });
    }
  }
  return result;
}

/**
 * The value of a filter parameter: a repeated parameter is one comma-joined String (Spring binds String[] to a String
 * property with StringUtils.arrayToCommaDelimitedString; EventRequestParams.filter is a String).
 */
function filterParam(q: URLSearchParams, name: string): string | undefined {
  const all = q.getAll(name);
  return all.length ? all.join(',') : undefined;
}

/** Parses a filter parameter per version; a parse error is a 400 (`<param>=<input> is invalid. <why>` from 2.42). */
function parseFilterParam(v: Version, q: URLSearchParams, name: string): Filters | Reply {
  const input = filterParam(q, name);
  if (input === undefined) return new Map();
  try {
    if (trackerFiltersHaveUnaryOperators(v)) return parseFiltersSinglePass(input);
    return parseFiltersSegments(input, trackerFiltersHaveEscapes(v));
  } catch (err) {
    if (!(err instanceof FilterParseError)) throw err;
    return badRequest(
      trackerFiltersHaveUnaryOperators(v) ? `${name}=${input} is invalid. ${err.message}` : err.message,
    );
  }
}

const NUMERIC_TYPES = new Set([
  'NUMBER',
  'INTEGER',
  'INTEGER_POSITIVE',
  'INTEGER_NEGATIVE',
  'INTEGER_ZERO_OR_POSITIVE',
  'PERCENTAGE',
  'UNIT_INTERVAL',
]);

class FilterValueError extends Error {}

/**
 * One filter on a stored value (undefined: no value), as FilterJdbcPredicate (2.42+) / JdbcEventStore (2.41) build
 * the SQL: unary operators test whether the value exists (`eventdatavalues -> 'uid' is [not] null`); every binary one
 * is SQL on a NULL when there is no value, so such an event or tracked entity never matches (`!eq`, `!like` included).
 * Text is compared case-insensitively ("so far all DHIS2 operators are implemented using case-insensitive matching
 * in tracker, so ILIKE == LIKE, EQ == IEQ": lower(column) op lower(value)); `in` splits the value on `;`
 * (QueryFilter.OPTION_SEP) after lower-casing; like-based operators escape `%` and `_` and wrap the value in `%`
 * (LIKE/ILIKE/NLIKE/NILIKE: both sides, SW: after, EW: before). For numeric value types the cast operators (EQ, GT,
 * GE, LT, LE, IN, NE, NEQ) compare numbers, and a value that is no number fails the request ("Filter for data element
 * X is invalid. The data element value type is NUMBER but the value `v` is not."; its HTTP status, 400 here, was not
 * checked). Numbers are parsed as JavaScript numbers for every numeric type ("170.0 == 170", the class comment says,
 * for integer and number types alike). Dates and other types compare as text (ISO dates order as text; the real
 * server casts them to timestamps); MULTI_TEXT's per-option matching is not emulated (compared as text).
 */
function matchesFilter(
  stored: string | undefined,
  f: QueryFilter,
  valueType: string,
  what: { kind: 'data element' | 'attribute'; uid: string },
): boolean {
  if (f.op === 'NULL') return stored === undefined;
  if (f.op === 'NNULL') return stored !== undefined;
  if (stored === undefined) return false;
  const raw = f.value ?? '';
  // Numbers for the cast operators on a numeric type, lower-cased text otherwise: then one comparison for both.
  const numeric = NUMERIC_TYPES.has(valueType) && CAST.has(f.op);
  const parse = (x: string): number | string => {
    if (!numeric) return x.toLowerCase();
    const n = Number(x);
    if (x.trim() === '' || !Number.isFinite(n)) {
      throw new FilterValueError(
        `Filter for ${what.kind} ${what.uid} is invalid. The ${what.kind} value type is ${valueType} but the value \`${x}\` is not.`,
      );
    }
    return n;
  };
  const values = f.op === 'IN' ? javaSplit(numeric ? raw : raw.toLowerCase(), /;/).map(parse) : [parse(raw)];
  const value = values[0]!;
  const column = numeric ? Number(stored) : stored.toLowerCase();
  if (numeric && !Number.isFinite(column)) return false;
  switch (f.op) {
    case 'EQ':
    case 'IEQ':
      return column === value;
    case 'NE':
    case 'NEQ':
    case 'NIEQ':
      return column !== value;
    case 'GT':
      return column > value;
    case 'GE':
      return column >= value;
    case 'LT':
      return column < value;
    case 'LE':
      return column <= value;
    case 'IN':
      return values.includes(column);
    // The like-based operators are not cast: always text here.
    case 'LIKE':
    case 'ILIKE':
      return String(column).includes(String(value));
    case 'NLIKE':
    case 'NILIKE':
      return !String(column).includes(String(value));
    case 'SW':
      return String(column).startsWith(String(value));
    case 'EW':
      return String(column).endsWith(String(value));
    default:
      return false;
  }
}

/** Every attribute filter holds on the tracked entity's attribute values (none: no value). */
function attributeFiltersHold(
  m: Meta,
  te: { attributes: { attribute: string; value: string }[] } | undefined,
  filters: Filters,
): boolean {
  for (const [uid, fs] of filters) {
    const tea = get(m, 'trackedEntityAttributes', uid)!;
    const stored = te?.attributes.find((a) => a.attribute === uid)?.value;
    const valueType = typeof tea.valueType === 'string' ? tea.valueType : 'TEXT';
    if (!matchesAllFilters(stored, fs, valueType, { kind: 'attribute', uid })) return false;
  }
  return true;
}

/**
 * All filters of a uid on one stored value; the bare `uid` form (no operator) means "has a value" (the 2.41 event
 * store emits `ev.eventdatavalues ?? 'uid'` for it; that 2.43 does the same is assumed, not found in its source).
 */
function matchesAllFilters(
  stored: string | undefined,
  filters: QueryFilter[],
  valueType: string,
  what: { kind: 'data element' | 'attribute'; uid: string },
): boolean {
  if (filters.length === 0) return stored !== undefined;
  return filters.every((f) => matchesFilter(stored, f, valueType, what));
}

// ---------------------------------------------------------------------------------------------------------------------
// Export requests

export interface TrackerRequest {
  params: URLSearchParams;
  /** The raw query string as sent (without `?`), for the pager links. */
  rawQuery: string;
  /** The raw path as sent, context path included. */
  rawPath: string;
}

interface Paging {
  paged: boolean;
  page: number;
  pageSize: number;
  totalPages: boolean;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined | Reply {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return badRequest(`Value '${v}' is not valid for parameter ${name}. It should be of type boolean`);
}

/**
 * page (default 1), pageSize (default 50), totalPages (default false), paging / skipPaging per version
 * (trackerPagingParams); RequestParamsValidator.validatePaginationParameters: paging=false together with page,
 * pageSize or totalPages=true is a 400.
 */
function paging(v: Version, q: URLSearchParams): Paging | Reply {
  const names = trackerPagingParams(v);
  const pagingParam = names.includes('paging') ? boolParam(q, 'paging') : undefined;
  if (isReply(pagingParam)) return pagingParam;
  const skip = names.includes('skipPaging') ? boolParam(q, 'skipPaging') : undefined;
  if (isReply(skip)) return skip;
  const total = boolParam(q, 'totalPages');
  if (isReply(total)) return total;
  if (pagingParam !== undefined && skip !== undefined && pagingParam === skip) {
    return badRequest("Paging can either be enabled or disabled. Prefer 'paging' as 'skipPaging' will be removed.");
  }
  const paged = pagingParam ?? (skip === undefined ? true : !skip);
  // A value Spring cannot bind is a 400; its wording here follows the boolean one of TrackerImportControllerTest
  // ("Value 'x' is not valid for parameter p. It should be of type boolean"), not checked for integers.
  const int = (name: string, dflt: number): number | Reply => {
    const s = q.get(name);
    if (s === null || s === '') return dflt;
    const n = Number(s);
    if (!Number.isInteger(n))
      return badRequest(`Value '${s}' is not valid for parameter ${name}. It should be of type integer`);
    if (n < 1)
      return badRequest(`Emulator: ${name} must be greater than 0 (DHIS2 answers 400; its wording is not emulated)`);
    return n;
  };
  const page = int('page', 1);
  if (isReply(page)) return page;
  const pageSize = int('pageSize', 50);
  if (isReply(pageSize)) return pageSize;
  // validatePaginationParameters came with `paging` (2.41).
  if (!paged && names.includes('paging') && (q.has('page') || q.has('pageSize') || total === true)) {
    return badRequest(
      'Paging cannot be disabled with paging=false while also requesting a paginated response with page, pageSize and/or totalPages=true',
    );
  }
  return { paged, page, pageSize, totalPages: total === true };
}

function isReply(x: unknown): x is Reply {
  return isObj(x) && typeof x.status === 'number';
}

/**
 * The request URL with `page` replaced, as view/Page.getPageLink does: UriComponentsBuilder.fromUriString(url)
 * .replaceQueryParam("page", n).build().toUriString(). The query is parsed with its QUERY_PARAM_PATTERN
 * `([^&=]+)(=?)([^&]+)?` into a LinkedMultiValueMap (a repeated name keeps the place of its first occurrence, its
 * values grouped there), `page` is removed and appended last; nothing is decoded or re-encoded.
 */
export function pageLink(origin: string, rawPath: string, rawQuery: string, page: number): string {
  const params = new Map<string, (string | null)[]>();
  for (const m of rawQuery.matchAll(/([^&=]+)(=?)([^&]+)?/g)) {
    const name = m[1]!;
    const value = m[3] !== undefined ? m[3] : m[2] ? '' : null;
    const list = params.get(name) ?? [];
    list.push(value);
    params.set(name, list);
  }
  params.delete('page');
  params.set('page', [String(page)]);
  const query = [...params].flatMap(([k, vs]) => vs.map((x) => (x === null ? k : `${k}=${x}`))).join('&');
  return `${origin}${rawPath}?${query}`;
}

function originOf(state: State): string {
  return state.baseUrl.slice(0, state.baseUrl.length - state.contextPath.length);
}

/** A page of items in the version's shape (trackerPageShape); `key` is `events` or `trackedEntities`. */
/** The page of `all` asked for; only the rows on it are rendered (a count with pageSize=1 renders one). */
function pageReply<T>(
  state: State,
  req: TrackerRequest,
  key: string,
  all: T[],
  p: Paging,
  render: (row: T) => Obj,
): Reply {
  const v = state.version;
  const shape = trackerPageShape(v);
  const itemsKey = shape === 'flat' ? 'instances' : key;
  if (!p.paged) return { status: 200, body: { [itemsKey]: all.map(render) } };
  const from = (p.page - 1) * p.pageSize;
  const items = all.slice(from, from + p.pageSize).map(render);
  const pager: Obj = { page: p.page, pageSize: p.pageSize };
  if (p.totalPages) {
    pager.total = all.length;
    pager.pageCount = Math.ceil(all.length / p.pageSize);
  }
  if (trackerPagerHasLinks(v)) {
    const origin = originOf(state);
    if (p.page > 1) pager.prevPage = pageLink(origin, req.rawPath, req.rawQuery, p.page - 1);
    if (all.length > from + p.pageSize) pager.nextPage = pageLink(origin, req.rawPath, req.rawQuery, p.page + 1);
  }
  if (shape === 'flat') return { status: 200, body: { ...pager, [itemsKey]: items } };
  if (shape === 'both') return { status: 200, body: { ...pager, pager, [itemsKey]: items } };
  return { status: 200, body: { pager, [itemsKey]: items } };
}

type OrgUnitMode = 'SELECTED' | 'CHILDREN' | 'DESCENDANTS' | 'ACCESSIBLE' | 'CAPTURE' | 'ALL';
const ORG_UNIT_MODES: readonly OrgUnitMode[] = ['SELECTED', 'CHILDREN', 'DESCENDANTS', 'ACCESSIBLE', 'CAPTURE', 'ALL'];

/**
 * The organisation unit mode from the parameter(s) the version reads (trackerOrgUnitModeParams); no mode: SELECTED
 * with org units, else ACCESSIBLE (RequestParamsValidator.validateOrgUnitMode); ACCESSIBLE/CAPTURE/ALL with org units
 * and SELECTED/CHILDREN/DESCENDANTS without are 400s there (2.41+).
 */
function orgUnitMode(
  v: Version,
  q: URLSearchParams,
  orgUnits: string[],
  forTrackedEntities: boolean,
): OrgUnitMode | Reply {
  const names = trackerOrgUnitModeParams(v);
  const given = names.map((n) => [n, q.get(n)] as const).filter(([, x]) => x !== null && x !== '');
  if (given.length > 1) {
    return badRequest(
      "Only one parameter of 'ouMode' and 'orgUnitMode' must be specified. Prefer 'orgUnitMode' as 'ouMode' will be removed.",
    );
  }
  const [name, value] = given[0] ?? [names[0]!, null];
  let mode: OrgUnitMode;
  if (value === null) {
    if (forTrackedEntities && orgUnits.length === 0 && trackedEntitiesRequireOrgUnitOrMode(v)) {
      return conflict('At least one organisation unit must be specified');
    }
    mode = orgUnits.length ? 'SELECTED' : 'ACCESSIBLE';
  } else {
    // An unknown constant: a 400 worded as TrackerImportControllerTest shows for the import's enums (not checked here).
    if (!(ORG_UNIT_MODES as readonly string[]).includes(value)) {
      return badRequest(
        `Value '${value}' is not valid for parameter ${name}. Valid values are: [${ORG_UNIT_MODES.join(', ')}]`,
      );
    }
    mode = value as OrgUnitMode;
  }
  if (['ACCESSIBLE', 'CAPTURE', 'ALL'].includes(mode) && orgUnits.length > 0) {
    return badRequest(
      `orgUnitMode ${mode} cannot be used with orgUnits. Please remove the orgUnit parameter and try again.`,
    );
  }
  if (['SELECTED', 'CHILDREN', 'DESCENDANTS'].includes(mode) && orgUnits.length === 0) {
    return badRequest(
      forTrackedEntities
        ? `At least one org unit or tracked entity is required for orgUnitMode: ${mode}. Please add one of the two or use a different orgUnitMode.`
        : `At least one org unit is required for orgUnitMode: ${mode}. Please add one org unit or use a different orgUnitMode.`,
    );
  }
  return mode;
}

/**
 * Whether an owner org unit is in the requested scope (OrgUnitQueryBuilder.buildOrgUnitModeClause: SELECTED the unit,
 * CHILDREN the unit and its children, DESCENDANTS its subtree). ACCESSIBLE, CAPTURE and ALL are not restricted: the
 * emulator's users are superusers and buildOwnershipClause skips the scope for them ("orgUnitMode == ALL ||
 * userDetails.isSuper()"); recorded on 2.43.1 as the same total with and without orgUnitMode=ALL.
 */
function inScope(m: Meta, owner: string, mode: OrgUnitMode, orgUnits: string[]): boolean {
  if (mode === 'ACCESSIBLE' || mode === 'CAPTURE' || mode === 'ALL') return true;
  const path = orgUnitPath(m, owner);
  return orgUnits.some((ou) => {
    if (mode === 'SELECTED') return owner === ou;
    if (mode === 'CHILDREN') return owner === ou || path[path.length - 2] === ou;
    return path.includes(ou);
  });
}

/** Known parameters the emulator does not apply: a 501 names them instead of an answer that ignores them. */
const NOT_EMULATED_EVENT_PARAMS = [
  'order',
  'status',
  'programStatus',
  'enrollmentStatus',
  'followUp',
  'occurredAfter',
  'occurredBefore',
  'scheduledAfter',
  'scheduledBefore',
  'updatedAfter',
  'updatedBefore',
  'updatedWithin',
  'enrollmentEnrolledAfter',
  'enrollmentEnrolledBefore',
  'enrollmentOccurredAfter',
  'enrollmentOccurredBefore',
  'assignedUserMode',
  'assignedUser',
  'assignedUsers',
  'attributeCc',
  'attributeCos',
  'attributeCategoryCombo',
  'attributeCategoryOptions',
  'idScheme',
  'dataElementIdScheme',
  'orgUnitIdScheme',
  'programIdScheme',
  'programStageIdScheme',
  'categoryOptionComboIdScheme',
];
const NOT_EMULATED_TE_PARAMS = [
  'order',
  'programStage',
  'programStatus',
  'enrollmentStatus',
  'followUp',
  'updatedAfter',
  'updatedBefore',
  'updatedWithin',
  'enrollmentEnrolledAfter',
  'enrollmentEnrolledBefore',
  'enrollmentOccurredAfter',
  'enrollmentOccurredBefore',
  'eventStatus',
  'eventOccurredAfter',
  'eventOccurredBefore',
  'assignedUserMode',
  'assignedUser',
  'assignedUsers',
  'potentialDuplicate',
  'idScheme',
  'orgUnitIdScheme',
];

function unsupported(q: URLSearchParams, names: string[], path: string): Reply | undefined {
  const n = names.find((x) => q.has(x));
  return n ? notEmulated(`parameter '${n}' of ${path}`) : undefined;
}

/**
 * A UID parameter (Spring converts the text to UID; an empty one is null). A text that is no UID is a 400; its wording
 * joins the parameter message of TrackerImportControllerTest and UID.of's message, not checked as such.
 */
function uidParam(q: URLSearchParams, name: string): string | undefined | Reply {
  const s = q.get(name);
  if (s === null || s === '') return undefined;
  if (!isValidUid(s)) {
    return badRequest(
      `Value '${s}' is not valid for parameter ${name}. UID must be an alphanumeric string of 11 characters starting with a letter, but was: ${s}`,
    );
  }
  return s;
}

/** Comma separated UIDs (2.41+ `events`, `enrollments`, `orgUnits`, `trackedEntities`) or the `;` legacy ones. */
function uidList(q: URLSearchParams, name: string, sep: RegExp): string[] {
  return q
    .getAll(name)
    .flatMap((x) => x.split(sep))
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function deprecatedUids(v: Version, q: URLSearchParams, legacy: string, current: string): string[] | Reply {
  const names = trackerUidListParams(v);
  const a = names.includes('plural') ? uidList(q, current, /,/) : [];
  const b = names.includes('legacy') ? uidList(q, legacy, /;/) : [];
  if (a.length && b.length) {
    return badRequest(
      `Only one parameter of '${legacy}' (deprecated; semicolon separated UIDs) and '${current}' (comma separated UIDs) must be specified. Prefer '${current}' as '${legacy}' will be removed.`,
    );
  }
  return a.length ? a : b;
}

function fieldsOf(q: URLSearchParams, dflt: string): ReturnType<typeof parseFields> {
  return parseFields(q.getAll('fields').join(',') || dflt);
}

/** ISO dates as the tracker views render an Instant: date-only values get midnight. */
function instant(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00.000` : s;
}

function compact(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** webapi/controller/tracker/view/Event: the properties the emulator holds. */
function eventView(e: EventRecord): Obj {
  return compact({
    event: e.event,
    status: e.status,
    program: e.program,
    programStage: e.programStage,
    enrollment: e.enrollment,
    trackedEntity: e.trackedEntity,
    orgUnit: e.orgUnit,
    relationships: [],
    occurredAt: instant(e.occurredAt),
    scheduledAt: instant(e.scheduledAt),
    followUp: false,
    deleted: e.deleted,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    dataValues: e.dataValues.map((d) => ({
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
      providedElsewhere: false,
      dataElement: d.dataElement,
      value: d.value,
    })),
    notes: [],
  });
}

/** view/Enrollment. */
function enrollmentView(state: State, en: EnrollmentRecord, includeDeleted: boolean): Obj {
  const events = [...state.tracker.eventRows.values()]
    .filter((r) => r.rec.enrollment === en.enrollment && (includeDeleted || !r.rec.deleted))
    .sort((a, b) => a.pk - b.pk)
    .map((r) => eventView(r.rec));
  return compact({
    enrollment: en.enrollment,
    createdAt: en.createdAt,
    updatedAt: en.updatedAt,
    trackedEntity: en.trackedEntity,
    program: en.program,
    status: en.status,
    orgUnit: en.orgUnit,
    enrolledAt: instant(en.enrolledAt),
    occurredAt: instant(en.occurredAt),
    followUp: en.followUp,
    deleted: en.deleted,
    events,
    relationships: [],
    attributes: [],
    notes: [],
  });
}

/** view/TrackedEntity (attributes as view/Attribute). */
function trackedEntityView(
  state: State,
  te: TrackedEntityRecord,
  program: string | undefined,
  includeDeleted: boolean,
): Obj {
  const m: Meta = { store: state.store };
  const enrollments = [...state.tracker.enrollmentRows.values()]
    .filter((r) => r.rec.trackedEntity === te.trackedEntity && (program === undefined || r.rec.program === program))
    .filter((r) => includeDeleted || !r.rec.deleted)
    .sort((a, b) => a.pk - b.pk)
    .map((r) => enrollmentView(state, r.rec, includeDeleted));
  const programOwners = [...state.tracker.owners]
    .filter(([k]) => k.startsWith(`${te.trackedEntity}/`))
    .map(([k, ou]) => ({ orgUnit: ou, trackedEntity: te.trackedEntity, program: k.split('/')[1] }));
  return {
    trackedEntity: te.trackedEntity,
    trackedEntityType: te.trackedEntityType,
    createdAt: te.createdAt,
    updatedAt: te.updatedAt,
    orgUnit: te.orgUnit,
    inactive: false,
    deleted: te.deleted,
    potentialDuplicate: false,
    relationships: [],
    attributes: te.attributes.map((a) => {
      const tea = get(m, 'trackedEntityAttributes', a.attribute);
      return compact({
        attribute: a.attribute,
        code: typeof tea?.code === 'string' ? tea.code : undefined,
        displayName: typeof tea?.name === 'string' ? tea.name : undefined,
        createdAt: te.createdAt,
        updatedAt: te.updatedAt,
        valueType: typeof tea?.valueType === 'string' ? tea.valueType : undefined,
        value: a.value,
      });
    }),
    enrollments,
    programOwners,
  };
}

/** Option names by code, for eventFiltersCompareOptionNames. */
function optionNames(m: Meta, optionSetId: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const os = get(m, 'optionSets', optionSetId);
  if (!os) return out;
  const listed = Array.isArray(os.options) ? os.options.map(refId) : [];
  const back = m.store.rawList('options').filter((o) => refId(o.optionSet) === os.id);
  for (const id of new Set([...listed, ...back.map((o) => o.id as string)])) {
    const o = get(m, 'options', id);
    if (o && typeof o.code === 'string') out.set(o.code.toLowerCase(), typeof o.name === 'string' ? o.name : o.code);
  }
  return out;
}

/**
 * GET /api/tracker/events (EventsExportController, TrackerEventOperationParamsMapper, JdbcTrackerEventStore):
 * `program` (required from 2.43), `programStage`, `trackedEntity`, `orgUnit` with the org unit mode, `events` /
 * `event`, `enrollments`, `filter` (data elements) and `filterAttributes` (tracked entity attributes), `includeDeleted`,
 * paging and `fields` (default `*,!relationships`). Order: the database id, descending (DEFAULT_ORDER "ev_id desc";
 * recorded: the newest event first). The owner org unit of the tracked entity in the program is what `orgUnit` and
 * the mode select (`ou` is trackedentityprogramowner's org unit in the store's SQL).
 */
export function getTrackerEvents(state: State, req: TrackerRequest): Reply {
  const v = state.version;
  const q = req.params;
  const m: Meta = { store: state.store };
  const programParam = q.get('program');
  if (trackerEventsRequireProgram(v) && (programParam === null || programParam === '')) {
    return tomcatErrorPage(400, "Required parameter 'program' is not present.");
  }
  const pg = paging(v, q);
  if (isReply(pg)) return pg;
  const programId = uidParam(q, 'program');
  if (isReply(programId)) return programId;
  const program = programId ? get(m, 'programs', programId) : undefined;
  if (programId && !program) return badRequest(`Program is specified but does not exist: ${programId}`);
  const stageId = uidParam(q, 'programStage');
  if (isReply(stageId)) return stageId;
  if (stageId && !get(m, 'programStages', stageId)) {
    return badRequest(`Program stage is specified but does not exist: ${stageId}`);
  }
  const teId = uidParam(q, 'trackedEntity');
  if (isReply(teId)) return teId;
  const teRow = teId ? state.tracker.trackedEntityRows.get(teId) : undefined;
  const includeDeleted = boolParam(q, 'includeDeleted');
  if (isReply(includeDeleted)) return includeDeleted;
  if (teId && (!teRow || (teRow.rec.deleted && !includeDeleted))) {
    return badRequest(`Tracked entity is specified but does not exist: ${teId}`);
  }
  const orgUnitId = uidParam(q, 'orgUnit');
  if (isReply(orgUnitId)) return orgUnitId;
  if (orgUnitId && !get(m, 'organisationUnits', orgUnitId)) {
    return badRequest(`Organisation unit is specified but does not exist: ${orgUnitId}`);
  }
  const orgUnits = orgUnitId ? [orgUnitId] : [];
  const mode = orgUnitMode(v, q, orgUnits, false);
  if (isReply(mode)) return mode;
  const skip = unsupported(q, NOT_EMULATED_EVENT_PARAMS, '/api/tracker/events');
  if (skip) return skip;
  const eventIds = deprecatedUids(v, q, 'event', 'events');
  if (isReply(eventIds)) return eventIds;
  const enrollmentIds = uidList(q, 'enrollments', /,/);

  const deFilters = parseFilterParam(v, q, 'filter');
  if (isReply(deFilters)) return deFilters;
  for (const uid of deFilters.keys()) {
    if (!get(m, 'dataElements', uid)) return badRequest(`filter is invalid. Data element '${uid}' does not exist.`);
  }
  const teaFilters = parseFilterParam(v, q, 'filterAttributes');
  if (isReply(teaFilters)) return teaFilters;
  for (const uid of teaFilters.keys()) {
    if (!get(m, 'trackedEntityAttributes', uid)) {
      return badRequest(`attribute filters are invalid. Tracked entity attribute '${uid}' does not exist.`);
    }
  }
  const names = new Map<string, Map<string, string>>();
  const optionNamesFor = eventFiltersCompareOptionNames(v)
    ? (deUid: string): Map<string, string> => {
        if (!names.has(deUid)) names.set(deUid, optionNames(m, refId(get(m, 'dataElements', deUid)?.optionSet)));
        return names.get(deUid)!;
      }
    : undefined;

  let rows: Row<EventRecord>[];
  try {
    rows = [...state.tracker.eventRows.values()].filter(({ rec: e }) => {
      if (!includeDeleted && e.deleted) return false;
      if (program && e.program !== program.id) return false;
      if (stageId && e.programStage !== stageId) return false;
      if (teId && e.trackedEntity !== teId) return false;
      if (eventIds.length && !eventIds.includes(e.event)) return false;
      if (enrollmentIds.length && !enrollmentIds.includes(e.enrollment)) return false;
      const owner = state.tracker.owners.get(`${e.trackedEntity}/${e.program}`) ?? e.orgUnit;
      if (!inScope(m, owner, mode, orgUnits)) return false;
      for (const [uid, filters] of deFilters) {
        const de = get(m, 'dataElements', uid)!;
        const stored = e.dataValues.find((d) => d.dataElement === uid)?.value;
        const valueType = typeof de.valueType === 'string' ? de.valueType : 'TEXT';
        const byCode = optionNamesFor?.(uid);
        const byName = byCode !== undefined && byCode.size > 0;
        if (filters.length === 0 && stored === undefined) return false;
        for (const f of filters) {
          // Up to 2.41 an option set's value is joined to its option: non-`in` operators test the option name.
          const s = byName && f.op !== 'IN' && stored !== undefined ? byCode.get(stored.toLowerCase()) : stored;
          if (!matchesFilter(s, f, valueType, { kind: 'data element', uid })) return false;
        }
      }
      if (teaFilters.size) {
        const te = state.tracker.trackedEntityRows.get(e.trackedEntity)?.rec;
        if (!attributeFiltersHold(m, te, teaFilters)) return false;
      }
      return true;
    });
  } catch (err) {
    if (err instanceof FilterValueError) return badRequest(err.message);
    throw err;
  }
  rows.sort((a, b) => b.pk - a.pk);
  const fields = fieldsOf(q, '*,!relationships');
  return pageReply(state, req, 'events', rows, pg, (r) => applyFields(eventView(r.rec), fields, () => undefined));
}

/**
 * GET /api/tracker/trackedEntities (TrackedEntitiesExportController, TrackedEntityRequestParamsMapper,
 * TrackedEntityOperationParamsMapper, JdbcTrackedEntityStore): one of `program`, `trackedEntityType`,
 * `trackedEntities` (trackedEntitiesNeedProgramOrType), not both program and type; with `program` only tracked
 * entities the program owns (inner join trackedentityprogramowner: enrolled at least once), its type; without, the
 * type's tracked entities that some tracker program of that type could own (inner join program on the type).
 * `filter` on attribute values (unknown attribute: 400), `orgUnits` / `orgUnit` with the mode (owner org unit, or
 * the registration org unit without ownership), `includeDeleted`, paging and `fields` (default
 * `*,!relationships,!enrollments,!events,!programOwners`). Order: the database id, descending (DEFAULT_ORDER
 * "te.trackedentityid desc"; recorded). The attributes' allowedSearchOperators and minCharactersToSearch (2.42+) and
 * search outside the capture scope are not checked: the emulator's users are superusers at the root.
 */
export function getTrackedEntities(state: State, req: TrackerRequest): Reply {
  const v = state.version;
  const q = req.params;
  const m: Meta = { store: state.store };
  const pg = paging(v, q);
  if (isReply(pg)) return pg;
  const programId = uidParam(q, 'program');
  if (isReply(programId)) return programId;
  const tetId = uidParam(q, 'trackedEntityType');
  if (isReply(tetId)) return tetId;
  const teIds = deprecatedUids(v, q, 'trackedEntity', 'trackedEntities');
  if (isReply(teIds)) return teIds;
  const needs = trackedEntitiesNeedProgramOrType(v);
  // The same TrackedEntityRequestParamsMapper.validateRequestParams (2.41+) refuses both at once.
  if (programId && tetId && needs.status === 400) {
    return badRequest('`program` and `trackedEntityType` cannot be specified simultaneously');
  }
  if (!programId && !tetId && teIds.length === 0) {
    return needs.status === 400 ? badRequest(needs.message) : conflict(needs.message);
  }
  const orgUnits = deprecatedUids(v, q, 'orgUnit', 'orgUnits');
  if (isReply(orgUnits)) return orgUnits;
  const mode = orgUnitMode(v, q, orgUnits, true);
  if (isReply(mode)) return mode;
  const skip = unsupported(q, NOT_EMULATED_TE_PARAMS, '/api/tracker/trackedEntities');
  if (skip) return skip;
  const filters = parseFilterParam(v, q, 'filter');
  if (isReply(filters)) return filters;
  for (const uid of filters.keys()) {
    if (!get(m, 'trackedEntityAttributes', uid)) {
      return badRequest(`attribute filters are invalid. Tracked entity attribute '${uid}' does not exist.`);
    }
  }
  const program = programId ? get(m, 'programs', programId) : undefined;
  if (programId && !program) return badRequest(`Program is specified but does not exist: ${programId}`);
  if (program && !isRegistration(program))
    return badRequest(`Program specified is not a tracker program: ${programId}`);
  if (tetId && !get(m, 'trackedEntityTypes', tetId)) {
    return badRequest(`Tracked entity type is specified but does not exist: ${tetId}`);
  }
  for (const ou of orgUnits) {
    if (!get(m, 'organisationUnits', ou)) return badRequest(`Organisation unit does not exist: ${ou}`);
  }
  const includeDeleted = boolParam(q, 'includeDeleted');
  if (isReply(includeDeleted)) return includeDeleted;
  const trackerPrograms = m.store.rawList('programs').filter(isRegistration);

  let rows: Row<TrackedEntityRecord>[];
  try {
    rows = [...state.tracker.trackedEntityRows.values()].filter(({ rec: te }) => {
      if (!includeDeleted && te.deleted) return false;
      if (teIds.length && !teIds.includes(te.trackedEntity)) return false;
      if (tetId && te.trackedEntityType !== tetId) return false;
      let owners: string[];
      if (program) {
        const owner = state.tracker.owners.get(`${te.trackedEntity}/${program.id as string}`);
        if (owner === undefined) return false;
        if (refId(program.trackedEntityType) && te.trackedEntityType !== refId(program.trackedEntityType)) return false;
        owners = [owner];
      } else {
        const ofType = trackerPrograms.filter((p) => refId(p.trackedEntityType) === te.trackedEntityType);
        if (ofType.length === 0) return false;
        owners = ofType.map((p) => state.tracker.owners.get(`${te.trackedEntity}/${p.id as string}`) ?? te.orgUnit);
      }
      if (!owners.some((ou) => inScope(m, ou, mode, orgUnits))) return false;
      return attributeFiltersHold(m, te, filters);
    });
  } catch (err) {
    if (err instanceof FilterValueError) return badRequest(err.message);
    throw err;
  }
  rows.sort((a, b) => b.pk - a.pk);
  const fields = fieldsOf(q, '*,!relationships,!enrollments,!events,!programOwners');
  return pageReply(state, req, 'trackedEntities', rows, pg, (r) =>
    applyFields(trackedEntityView(state, r.rec, programId, includeDeleted === true), fields, () => undefined),
  );
}

/** POST /api/tracker: 200 / 409 with the ImportReport, or a 400 / 501 WebMessage. */
export function postTracker(state: State, q: URLSearchParams, body: unknown): Reply {
  const params = parseTrackerImportParams(q);
  if (isReply(params)) return params;
  const out = importTracker(state, params, body);
  if (!('report' in out)) return out;
  return { status: out.status, body: out.report };
}
