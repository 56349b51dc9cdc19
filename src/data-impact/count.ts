/**
 * Counts, on the server, the records each change of the plan would orphan or hide (changes.ts says which).
 * One request per distinct question (the client bounds how many run at once); a count that could not be made
 * keeps its reason and is never read as 0.
 */
import type { Dhis2Client } from '../dhis2/client.ts';
import { UncountableError } from '../dhis2/tracker-count.ts';
import { dataImpactItems, queryKey, records, type ImpactInputs, type ImpactItem, type ImpactQuery } from './changes.ts';

export interface CountedImpact extends ImpactItem {
  /** The records counted, or null when the count could not be made (`error` says why). */
  records: number | null;
  error?: string;
  /** The requests, relative to /api (none when this server cannot be asked). */
  requests: string[];
}

type Answer = { records: number | null; error?: string };

/**
 * One question. When this version cannot ask for "any value" (before 2.41), the stage's (or program's) records
 * without a filter bound it: none there is an exact 0; otherwise the count stays not made, with that bound.
 */
async function ask(client: Dhis2Client, q: ImpactQuery): Promise<Answer> {
  const query = { ...q, programStage: q.programStage?.id, element: q.element.id };
  try {
    return { records: await client.countTracker(query) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (!(e instanceof UncountableError) || q.codes !== undefined) return { records: null, error: reason };
    try {
      const all = await client.countTracker({ ...query, element: undefined });
      if (all === 0) return { records: 0 };
      return {
        records: null,
        error: `${reason}; at most ${records(all, q.kind)} (all of the ${q.programStage ? 'stage' : 'program'})`,
      };
    } catch {
      return { records: null, error: reason };
    }
  }
}

export async function countImpact(client: Dhis2Client, items: readonly ImpactItem[]): Promise<CountedImpact[]> {
  if (items.length === 0) return [];
  const asked = new Map<string, Promise<Answer>>();
  return Promise.all(
    items.map(async (item) => {
      const key = queryKey(item.query);
      let answer = asked.get(key);
      if (!answer) asked.set(key, (answer = ask(client, item.query)));
      const q = item.query;
      const requests = client.trackerCountRequests({ ...q, programStage: q.programStage?.id, element: q.element.id });
      return { ...item, ...(await answer), requests };
    }),
  );
}

/** The plan's changes that touch collected data, counted (no request when there is none). */
export function countPlanImpact(client: Dhis2Client, inputs: ImpactInputs): Promise<CountedImpact[]> {
  return countImpact(client, dataImpactItems(inputs));
}

/**
 * Records over the distinct questions: per field (and stage), a question for any value holds those for some codes
 * (a data element whose option set changes while the set loses a code counts its events once). A record with
 * values of two changed fields counts once per field.
 */
export function impactTotal(items: readonly CountedImpact[]): number {
  const byField = new Map<string, Map<string, number>>();
  for (const i of items) {
    if (i.records === null) continue;
    const q = i.query;
    const field = [q.kind, q.program, q.programStage?.id ?? '', q.element.id].join('|');
    const answers = byField.get(field) ?? new Map<string, number>();
    answers.set(queryKey(q), i.records);
    byField.set(field, answers);
  }
  let total = 0;
  for (const answers of byField.values()) {
    const any = [...answers].find(([key]) => key.endsWith('|!null'));
    total += any ? any[1] : [...answers.values()].reduce((a, b) => a + b, 0);
  }
  return total;
}

/** The distinct questions that could not be answered. */
export function uncounted(items: readonly CountedImpact[]): number {
  return new Set(items.filter((i) => i.records === null).map((i) => queryKey(i.query))).size;
}
