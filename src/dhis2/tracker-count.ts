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
  /** The data element (events) or attribute (tracked entities) filtered on; undefined: every record (no filter). */
  element?: string;
  /** Values counted; undefined: any value. */
  codes?: readonly string[];
}

/** The server's version, as the filter syntax depends on it. */
export interface VersionCheck {
  (minor: number, patch?: number): boolean;
}

/** Why a count cannot be asked of this server at all (reported as not counted, never as 0). */
export class UncountableError extends Dhis2Error {}

/**
 * The filter, in the syntax this version reads (dhis2-core's tracker filter parsers; the research with its citations
 * is docs/dhis2-tracker-counts.md):
 * - codes with `in` (`UID:in:A;B`) on every version: on 2.38-2.41 `eq` compares an option set's option NAME,
 *   `in` its code (JdbcEventStore; from 2.42 both compare the code, as real-2.43.1/tracker-events-count-eq shows);
 * - inside a value `:` `,` and `/` are escaped with `/` (RequestParamsValidator ESCAPE, dhis2-core PR 13981),
 *   from 2.40.1; `;` separates the values of `in` and cannot be escaped, so such a code is asked with `eq`,
 *   which compares codes from 2.42;
 * - any value: `UID:!null` from 2.42 (PRs 19778, 20030; real-2.43.1/tracker-events-count-notnull), a bare `UID`
 *   on 2.41 (its parser reads a filter without operator as "has a value"); 2.38-2.40 have no such filter.
 */
export function trackerFilters(q: Pick<TrackerCountQuery, 'element' | 'codes'>, atLeast: VersionCheck): string[] {
  if (q.element === undefined) return [];
  if (q.codes === undefined) {
    if (atLeast(42)) return [`${q.element}:!null`];
    if (atLeast(41)) return [q.element];
    throw new UncountableError(
      'DHIS2 before 2.41 cannot count the records that hold any value of a field (the tracker API gained that filter in 2.41)',
    );
  }
  const special = q.codes.filter((c) => /[:,/;]/.test(c));
  if (special.length > 0 && !atLeast(40, 1)) {
    throw new UncountableError(
      `the code ${JSON.stringify(special[0])} holds a character the tracker API of DHIS2 before 2.40.1 cannot filter on (: , / ;)`,
    );
  }
  const escape = (v: string) => v.replace(/[/:,]/g, (c) => `/${c}`);
  const plain = q.codes.filter((c) => !c.includes(';'));
  const semicolon = q.codes.filter((c) => c.includes(';'));
  if (semicolon.length > 0 && !atLeast(42)) {
    throw new UncountableError(
      `the code ${JSON.stringify(semicolon[0])} holds a ";", which the tracker API of DHIS2 before 2.42 cannot filter on`,
    );
  }
  return [
    ...(plain.length > 0 ? [`${q.element}:in:${plain.map(escape).join(';')}`] : []),
    ...semicolon.map((c) => `${q.element}:eq:${escape(c)}`),
  ];
}

/**
 * The requests' parameters (one per filter: two filters on the same field would both have to hold). 2.41 renamed
 * `ouMode` to `orgUnitMode` and 2.42 removed `ouMode` (ignored since: dhis2-core PR 19965), so the name follows
 * the version. `ALL` counts everywhere; it needs superuser or F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS,
 * and without them the server refuses (a count not made, never 0).
 */
export function trackerCountParams(q: TrackerCountQuery, atLeast: VersionCheck): QueryParams[] {
  const filters = q.element === undefined ? [undefined] : trackerFilters(q, atLeast);
  return filters.map((filter) => ({
    program: q.program,
    ...(q.kind === 'events' && q.programStage ? { programStage: q.programStage } : {}),
    ...(filter !== undefined ? { filter } : {}),
    [atLeast(41) ? 'orgUnitMode' : 'ouMode']: 'ALL',
    pageSize: 1,
    totalPages: true,
    fields: q.kind === 'events' ? 'event' : 'trackedEntity',
  }));
}

/**
 * The server's refusal of a count, said with what would allow it. Searching tracked entities outside the user's
 * capture scope (orgUnitMode=ALL is) obeys the program's search settings (dhis2-core TrackedEntity search
 * validation; docs/dhis2-tracker-counts.md section 5).
 */
export function countRefusal(message: string): string {
  const hints: [RegExp, string][] = [
    [
      /not authori[sz]ed to query across all organisation units/i,
      'a full count needs a superuser, or the authority F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS',
    ],
    [
      /non-searchable attribute/i,
      'the attribute is not searchable in the program: a user whose capture org units hold the records counts them',
    ],
    [
      /at least \d+ attributes? should be mentioned/i,
      "the program's minimum number of search attributes applies outside the user's capture org units",
    ],
    [/maxteicountreached/i, "the program's maximum number of tracked entities to return is reached"],
  ];
  const hint = hints.find(([re]) => re.test(message))?.[1];
  return hint ? `${message} (${hint})` : message;
}

/**
 * `pager.total` (2.41+), or the top-level `total` of 2.38-2.40's shape (`{page, pageSize, total, pageCount,
 * instances}`: dhis2-core PagingWrapper); both only with totalPages=true.
 */
export function totalOf(body: unknown, path: string): number {
  const pager = isRecord(body) && isRecord(body.pager) ? body.pager : body;
  const total = isRecord(pager) ? pager.total : undefined;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    throw new Dhis2Error(`GET /api/${path} answered without a record count (pager.total)`);
  }
  return total;
}
