/**
 * Counting tracker records: GET /api/tracker/events or /api/tracker/trackedEntities with pageSize=1 and
 * totalPages=true, read from the pager's `total`. Shapes as a real 2.43.1 answered
 * (test/fixtures/dhis2/real-2.43.1/tracker-*.json): `{"pager": {"page", "pageSize", "total", "pageCount",
 * "nextPage"}, "events": [...]}`; `program` is required (without it, 400 with Tomcat's HTML page); an unknown
 * data element is 400 E1003. Version differences are in trackerCountParams and totalOf, with their sources.
 */
import { Dhis2Error } from '../errors.ts';
import { isRecord } from './json.ts';
import type { QueryParams } from './query.ts';

export interface TrackerCountQuery {
  kind: 'events' | 'trackedEntities';
  program: string;
  programStage?: string;
  /** The data element (events) or attribute (tracked entities) filtered on. */
  element: string;
  /** Values counted; undefined: any value. */
  codes?: readonly string[];
}

/**
 * A filter value as DHIS2's tracker filter parser reads it: `:`, `;` and `,` separate the parts of a filter,
 * so inside a value they are escaped with `/` (and `/` itself).
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[/:;,]/g, (c) => `/${c}`);
}

/** The filter: `UID:eq:code`, `UID:in:a;b`, or `UID:!null`. */
export function trackerFilter(q: Pick<TrackerCountQuery, 'element' | 'codes'>): string {
  if (q.codes === undefined) return `${q.element}:!null`;
  const values = q.codes.map(escapeFilterValue);
  return values.length === 1 ? `${q.element}:eq:${values[0]}` : `${q.element}:in:${values.join(';')}`;
}

/**
 * The request's parameters. `orgUnitMode=ALL` counts everywhere the user may search (it needs the search-in-all
 * authority or superuser; without it the server refuses and the count is reported as not made). 2.41 renamed
 * `ouMode` to `orgUnitMode` (2.43 still accepts `ouMode`: real-2.43.1/tracker-events-ouMode-legacy.json).
 */
export function trackerCountParams(q: TrackerCountQuery, atLeast: (minor: number) => boolean): QueryParams {
  return {
    program: q.program,
    ...(q.kind === 'events' && q.programStage ? { programStage: q.programStage } : {}),
    filter: trackerFilter(q),
    [atLeast(41) ? 'orgUnitMode' : 'ouMode']: 'ALL',
    pageSize: 1,
    totalPages: true,
    fields: q.kind === 'events' ? 'event' : 'trackedEntity',
  };
}

/** `pager.total` (2.41+), or the top-level `total` of the older paged shape. */
export function totalOf(body: unknown, path: string): number {
  const pager = isRecord(body) && isRecord(body.pager) ? body.pager : body;
  const total = isRecord(pager) ? pager.total : undefined;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    throw new Dhis2Error(`GET /api/${path} answered without a record count (pager.total)`);
  }
  return total;
}
