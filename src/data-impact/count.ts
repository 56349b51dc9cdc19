/**
 * Counts, on the server, the records each change of the plan would orphan or hide (changes.ts says which).
 * One request per distinct question, a few at a time; a count that could not be made keeps its reason and
 * is never read as 0.
 */
import pLimit from 'p-limit';
import type { Dhis2Client } from '../dhis2/client.ts';
import { dataImpactItems, queryKey, type ImpactInputs, type ImpactItem } from './changes.ts';

/** Counts at once per program: each is one indexed query the server answers quickly. */
const COUNT_CONCURRENCY = 4;

export interface CountedImpact extends ImpactItem {
  /** The records counted, or null when the count could not be made (`error` says why). */
  records: number | null;
  error?: string;
  /** The requests, relative to /api (none when this server cannot be asked). */
  requests: string[];
}

export async function countImpact(client: Dhis2Client, items: readonly ImpactItem[]): Promise<CountedImpact[]> {
  if (items.length === 0) return [];
  const limit = pLimit(COUNT_CONCURRENCY);
  const asked = new Map<string, Promise<{ records: number | null; error?: string }>>();
  return Promise.all(
    items.map(async (item) => {
      const q = item.query;
      const query = { ...q, programStage: q.programStage?.id, element: q.element.id };
      const key = queryKey(q);
      let answer = asked.get(key);
      if (!answer) {
        answer = limit(async () => {
          try {
            return { records: await client.countTracker(query) };
          } catch (e) {
            return { records: null, error: e instanceof Error ? e.message : String(e) };
          }
        });
        asked.set(key, answer);
      }
      return { ...item, ...(await answer), requests: client.trackerCountRequests(query) };
    }),
  );
}

/** Records over the distinct questions (two changes asking the same question count its records once). */
export function impactTotal(items: readonly CountedImpact[]): number {
  const seen = new Map<string, number>();
  for (const i of items) if (i.records !== null) seen.set(queryKey(i.query), i.records);
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

/** The plan's changes that touch collected data, counted (no request when there is none). */
export function countPlanImpact(client: Dhis2Client, inputs: ImpactInputs): Promise<CountedImpact[]> {
  return countImpact(client, dataImpactItems(inputs));
}
