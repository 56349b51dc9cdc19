/**
 * What restore really sends: the plan's payload cut down to the objects that are new or differ from the
 * server (by the same comparison the PR comment shows), and the updates a DHIS2 version is known to refuse
 * only at COMMIT. Plain data in, plain data out.
 *
 * Why only what changes: a full re-import of an unchanged program bumps `version` on the program and on
 * every option set in the payload (seen on a real 2.43.1, dhis2-api.md), so Android clients download them
 * all again and the next export commits the churn; and it re-sends objects that DHIS2 2.42+ fails to update
 * (below). An unchanged object is not sent: DHIS2 resolves references to it from its database
 * (preheatMode=REFERENCE), as it does for every object outside a payload.
 */
import { idOf } from './json.ts';
import type { MetadataDiff } from './diff.ts';
import { collection, type MetadataDocument, type MetadataObject } from './types.ts';
import { setOwn } from '../util/own-keys.ts';

/** Ids of the payload objects that are new or changed, per collection. */
export function changedIds(diff: MetadataDiff): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of diff.collections) {
    out.set(c.collection, new Set([...c.created, ...c.changed.map((o) => o.id)]));
  }
  return out;
}

/**
 * The payload with only the new and changed objects. A collection left empty is dropped; object order is
 * kept (DHIS2 reports errors by index into the payload it got).
 */
export function changedOnly(payload: MetadataDocument, diff: MetadataDiff): MetadataDocument {
  const keep = changedIds(diff);
  const out: MetadataDocument = {};
  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    const ids = keep.get(key);
    if (ids === undefined) continue;
    const objects = (value as MetadataObject[]).filter((obj) => ids.has(idOf(obj) ?? ''));
    if (objects.length > 0) setOwn<unknown>(out, key, objects);
  }
  return out;
}

/** Whether a payload sends anything at all. */
export function isEmptyPayload(payload: MetadataDocument): boolean {
  return Object.values(payload).every((v) => !Array.isArray(v) || v.length === 0);
}

/** Number of objects in a payload, over its collections. */
export function objectCount(payload: MetadataDocument): number {
  return Object.values(payload).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
}

/** A program rule action DHIS2 would refuse to update at COMMIT. */
export interface CommitOnlyFailure {
  id: string;
  type: string;
  templateUid: string;
  rule?: string;
}

/**
 * Since 2.42, updating a program rule action that carries `templateUid` (SENDMESSAGE, SCHEDULEMESSAGE) fails
 * at COMMIT with a Hibernate TransientPropertyValueException: `ProgramRuleAction.setTemplateUid` makes a
 * transient notification template. importMode=VALIDATE says OK; creating such an action works; PUT
 * /api/programRuleActions/{id} fails too. Recorded on real 2.42.5.2 and 2.43.1
 * (real-2.43.1/import-commit-sendmessage-templateuid.json, real-2.42.5.2/import-commit-sendmessage.json).
 * Returns the payload's actions that exist on the server and carry a templateUid.
 */
export function templateUidUpdates(
  payload: MetadataDocument,
  onServer: ReadonlyMap<string, MetadataObject>,
  minor: number,
): CommitOnlyFailure[] {
  if (minor < 42) return [];
  const out: CommitOnlyFailure[] = [];
  for (const action of collection(payload, 'programRuleActions')) {
    const id = idOf(action);
    const templateUid = action.templateUid;
    if (id === undefined || typeof templateUid !== 'string' || templateUid === '' || !onServer.has(id)) continue;
    const failure: CommitOnlyFailure = { id, type: String(action.programRuleActionType ?? ''), templateUid };
    const rule = idOf(action.programRule);
    if (rule !== undefined) failure.rule = rule;
    out.push(failure);
  }
  return out;
}

/** The payload without the given programRuleActions (unchanged ones a full re-import must leave alone). */
export function withoutActions(payload: MetadataDocument, ids: ReadonlySet<string>): MetadataDocument {
  if (ids.size === 0 || !Array.isArray(payload.programRuleActions)) return payload;
  const kept = collection(payload, 'programRuleActions').filter((a) => !ids.has(idOf(a) ?? ''));
  const out = { ...payload };
  if (kept.length > 0) out.programRuleActions = kept;
  else delete out.programRuleActions;
  return out;
}

/** The deletions of a plan as one line, "programRules:a,b;programRuleVariables:c" (sorted), for the review marker. */
export function deletionList(deletions: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(deletions)
    .filter(([, ids]) => ids.length > 0)
    .map(([key, ids]) => `${key}:${[...ids].sort().join(',')}`)
    .sort()
    .join(';');
}

/** The inverse of deletionList. */
export function parseDeletionList(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const part of text.split(';')) {
    const [key, ids] = part.split(':');
    if (!key || ids === undefined) continue;
    out.set(key, new Set(ids.split(',').filter(Boolean)));
  }
  return out;
}
