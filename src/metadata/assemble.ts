/**
 * Builds the export document from what the server returned, as the reference app does after its GETs
 * (psi-org/Program-Config-App, src/components/PRG_List/DependencyExport.jsx, the block that runs once
 * `prgMetadata && legends && prgSections` are loaded), with its gaps closed:
 * - legend sets: the reference app keeps a legend set only when a data element lists it; program
 *   indicators, tracked entity attributes and anything else that references one lost it. We keep every
 *   legend set referenced anywhere in the document, and the shell can fetch just those by id.
 * - program sections: the reference app replaces whatever the dependency export had with its own GET;
 *   we keep the server's own (it is the import shape) and add only the missing ones.
 * - rule actions: the reference app overwrites every action's `programRule`, with `{id: undefined}` when
 *   no rule lists the action; we only fill in a missing link and never write an empty one.
 */
import { Dhis2Error } from '../errors.ts';
import { cloneJson, compareStrings, exceedsDepth, idOf, isRecord } from './json.ts';
import { collection, type MetadataDocument, type MetadataObject } from './types.ts';

/**
 * Deeper than any DHIS2 metadata (a few dozen levels at most: a program, its stages, their data elements,
 * sharing, translations). A server answer nested deeper is refused before anything walks it: the walks over
 * server JSON (here, json.ts mapJson, canonical.ts, diff.ts, the restore plan) are recursive, and 100,000
 * levels end them in "Maximum call stack size exceeded".
 */
export const MAX_SERVER_DEPTH = 1000;

/** The server's answer is nested deeper than MAX_SERVER_DEPTH: refused, in one line. */
export class TooDeepError extends Dhis2Error {}

/**
 * Values already walked by checkServerDepth, with the top-level values of each (each is then at most
 * max - 1 deep): the client checks every answer as it parses it (dhis2/http.ts), and the steps after it
 * (assembleExport, the plan) check what they are given again, which for those answers costs nothing.
 * Server JSON is never deepened after it is parsed (every change makes new, shallower values).
 */
const withinDepth = new WeakSet<object>();

/**
 * Throws TooDeepError when `value`, JSON from the server (`what` names the answer), is nested deeper than
 * `max` levels (json.ts exceedsDepth: iterative, it cannot overflow itself); an answer once (withinDepth).
 */
export function checkServerDepth(value: unknown, what: string, max = MAX_SERVER_DEPTH): void {
  if (typeof value !== 'object' || value === null || (max === MAX_SERVER_DEPTH && withinDepth.has(value))) return;
  if (exceedsDepth(value, max)) throw tooDeep(what, max);
  if (max !== MAX_SERVER_DEPTH) return;
  withinDepth.add(value);
  for (const child of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) {
    if (typeof child === 'object' && child !== null) withinDepth.add(child);
  }
}

function tooDeep(what: string, max: number): TooDeepError {
  return new TooDeepError(
    `the server's answer (${what}) is nested deeper than ${max} levels: DHIS2 metadata never is (a few dozen at ` +
      'most), so it was not used; check what answers at that address (a proxy, another application)',
  );
}

export interface ExportParts {
  /** `GET /api/programs/{id}/metadata.json`, as the server returned it. */
  dependencyExport: MetadataDocument;
  /**
   * `GET /api/programSections?filter=program.id:eq:{id}&paging=false`: the dependency export lacks program
   * sections before dhis2-core PR #15903. Ask for `fields=:owner` to get the import shape.
   */
  programSections?: MetadataObject[];
  /** Candidate legend sets (the dependency export has none); only those the document references are kept. */
  legendSets?: MetadataObject[];
  /**
   * referencedLegendSetIds of the dependency export with the program sections, when the caller has them (it
   * asked the server for those): the document is not walked again. Merging the sections changes none of them
   * (a ProgramSection has no legend set: dhis2-core ProgramSection.java).
   */
  referencedLegendSets?: readonly string[];
}

export function assembleExport(parts: ExportParts): MetadataDocument {
  checkServerDepth(parts.dependencyExport, "the program's dependency export");
  checkServerDepth(parts.programSections, 'the program sections');
  checkServerDepth(parts.legendSets, 'the legend sets');
  // A new document that shares the untouched objects with the input: nothing below mutates them (every
  // change makes a new array or object), nor does transformExport after it (it copies only what it changes).
  const doc: MetadataDocument = { ...parts.dependencyExport };

  if (parts.programSections !== undefined || Array.isArray(doc.programSections)) {
    doc.programSections = mergeById(collection(doc, 'programSections'), cloneJson(parts.programSections ?? []));
  }

  if (parts.legendSets !== undefined || Array.isArray(doc.legendSets)) {
    const referenced = new Set(parts.referencedLegendSets ?? referencedLegendSetIds(doc));
    const wanted = (parts.legendSets ?? []).filter((ls) => {
      const id = idOf(ls);
      return id !== undefined && referenced.has(id);
    });
    doc.legendSets = mergeById(collection(doc, 'legendSets'), cloneJson(wanted));
  }

  if (Array.isArray(doc.programRuleActions)) {
    doc.programRuleActions = linkRuleActions(collection(doc, 'programRules'), collection(doc, 'programRuleActions'));
  }

  const shaped = toFileShape(doc);
  // The reference app guarantees both arrays (an import of a program without options still lists them).
  shaped.optionSets ??= [];
  shaped.options ??= [];
  return shaped;
}

/**
 * Ids of the legend sets the document references, anywhere but in its own `legendSets` collection, sorted:
 * `legendSets: [{id}]` (data elements, program indicators, tracked entity attributes, ...), the older
 * single `legendSet: {id}`, and analytical objects' `legend: {set: {id}}` (DHIS2 2.38+).
 */
export function referencedLegendSetIds(doc: MetadataDocument): string[] {
  const ids = new Set<string>();
  const add = (ref: unknown): void => {
    const id = idOf(ref);
    if (id !== undefined) ids.add(id);
  };
  // Iterative (an explicit stack) and bounded: the first walk over the server's answer (collect.ts).
  const values: unknown[] = [];
  const depths: number[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'legendSets') continue;
    values.push(value);
    depths.push(1);
  }
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_SERVER_DEPTH) throw tooDeep("the program's dependency export", MAX_SERVER_DEPTH);
    if (Array.isArray(value)) {
      for (const item of value) {
        values.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    // for-in, not Object.entries: the first walk over the whole answer (JSON has no inherited keys).
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (key === 'legendSets' && Array.isArray(child)) child.forEach(add);
      else if (key === 'legendSet') add(child);
      else if (key === 'legend' && isRecord(child)) add(child.set);
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return [...ids].sort(compareStrings);
}

/** `first` in its order, then the objects of `more` whose id is not there yet (objects without id are kept). */
function mergeById(first: MetadataObject[], more: MetadataObject[]): MetadataObject[] {
  const seen = new Set(first.map(idOf).filter((id): id is string => id !== undefined));
  const out = [...first];
  for (const obj of more) {
    const id = idOf(obj);
    if (id !== undefined) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(obj);
  }
  return out;
}

/** Gives each action without a `programRule` the rule that lists it in `programRules[].programRuleActions`. */
function linkRuleActions(rules: MetadataObject[], actions: MetadataObject[]): MetadataObject[] {
  const ruleOfAction = new Map<string, string>();
  for (const rule of rules) {
    const ruleId = idOf(rule);
    if (ruleId === undefined || !Array.isArray(rule.programRuleActions)) continue;
    for (const ref of rule.programRuleActions) {
      const actionId = idOf(ref);
      if (actionId !== undefined && !ruleOfAction.has(actionId)) ruleOfAction.set(actionId, ruleId);
    }
  }
  return actions.map((action) => {
    if (idOf(action.programRule) !== undefined) return action;
    const actionId = idOf(action);
    const ruleId = actionId === undefined ? undefined : ruleOfAction.get(actionId);
    return ruleId === undefined ? action : { ...action, programRule: { id: ruleId } };
  });
}

/**
 * The shape of a metadata file (interface.md): program stage data elements and program tracked entity
 * attributes once, embedded in their owners (see foldEmbedded). Used by export and download-backup.
 */
export function toFileShape(source: MetadataDocument): MetadataDocument {
  const doc = { ...source };
  foldEmbedded(doc, 'programStageDataElements', 'programStages', 'programStage');
  foldEmbedded(doc, 'programTrackedEntityAttributes', 'programs', 'program');
  return doc;
}

/**
 * DHIS2 embeds program stage data elements in `programStages[]` and program tracked entity attributes in
 * `programs[]` (interface.md, "The metadata file"), but the dependency export also lists them at the top
 * level (dhis2-core DefaultMetadataExportService adds their classes). Two copies of one object in one file
 * mean one edit in two places, a one-field change as two lines, and an import where the copies disagree.
 * So each is kept once, embedded in its owner; a top-level one whose owner does not embed it yet is moved
 * there, and one whose owner is not in the document stays at the top level.
 */
function foldEmbedded(doc: MetadataDocument, key: string, ownerKey: string, ownerRef: string): void {
  if (!Array.isArray(doc[key])) return;
  // Owners are copied before they change (copy on write): the input document is never mutated.
  const owners = new Map<string | undefined, MetadataObject>();
  const ownerList = collection(doc, ownerKey).map((o) => {
    const copy = { ...o };
    owners.set(idOf(o), copy);
    return copy;
  });
  const remaining: MetadataObject[] = [];
  for (const obj of collection(doc, key)) {
    const owner = owners.get(idOf(obj[ownerRef]));
    if (owner === undefined) {
      remaining.push(obj);
      continue;
    }
    const list = Array.isArray(owner[key]) ? [...(owner[key] as MetadataObject[])] : [];
    const at = list.findIndex((e) => idOf(e) === idOf(obj));
    // An embedded bare {id} reference is replaced by the full object; a full embedded copy wins.
    if (at === -1) list.push(obj);
    else if (Object.keys(list[at] as object).length <= 1) list[at] = obj;
    owner[key] = list;
  }
  if (owners.size > 0) doc[ownerKey] = ownerList;
  if (remaining.length > 0) doc[key] = remaining;
  else delete doc[key];
}
