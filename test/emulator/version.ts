/**
 * Everything that differs by DHIS2 version, in one place, so each behaviour cites its version boundary once.
 * Sources: /work/shared/docs/dhis2-api.md and the dhis2-core code cited at each predicate.
 */

export interface Version {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export function parseVersion(text: string): Version {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new Error(`Emulator: unsupported DHIS2 version '${text}' (expected e.g. 2.41.3)`);
  return { text: text.trim(), major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** Compares on major.minor only: `atLeast(v, 41)` is 2.41+. */
export function atLeast(v: Version, minor: number): boolean {
  return v.major > 2 || (v.major === 2 && v.minor >= minor);
}

/**
 * POST /api/metadata answers a WebMessage envelope (2.38+) or the bare ImportReport (<= 2.37).
 * The versioned path /api/37/metadata keeps the bare report up to 2.41; 2.42 wraps everything.
 */
export function wrapsImportReport(v: Version, apiVersionInPath: number | undefined): boolean {
  if (!atLeast(v, 38)) return false;
  if (atLeast(v, 42)) return true;
  return !(apiVersionInPath !== undefined && apiVersionInPath <= 37);
}

/** responseType of the wrapped report: a regression named it after the wrapper class in 2.42.0-2.42.4 and 2.43.0. */
export function importReportResponseType(v: Version): string {
  const regressed = (v.minor === 42 && v.patch <= 4) || (v.minor === 43 && v.patch === 0);
  return v.major === 2 && regressed ? 'ImportReportWebMessageResponse' : 'ImportReport';
}

/** The conflict message of WebMessageUtils.importReport; before 2.38 it had the "One more more" typo. */
export function importConflictMessage(v: Version): string {
  return atLeast(v, 38)
    ? 'One or more errors occurred, please see full details in import report.'
    : 'One more more errors occurred, please see full details in import report.';
}

/** Personal access tokens exist since 2.37; d2pat_ tokens until 2.40, d2p_ since 2.41 (which still accepts d2pat_). */
export function acceptsToken(v: Version, token: string): boolean {
  if (!atLeast(v, 37)) return false;
  if (token.startsWith('d2pat_')) return true;
  return token.startsWith('d2p_') && atLeast(v, 41);
}

/** Legacy sharing keys (publicAccess, externalAccess, userAccesses, userGroupAccesses) are serialized up to 2.40. */
export function serializesLegacySharing(v: Version): boolean {
  return !atLeast(v, 41);
}

/** 2.41+ resets the sharing of an object imported without `sharing.public` to the default, and ignores legacy keys. */
export function resetsSharingWithoutPublic(v: Version): boolean {
  return atLeast(v, 41);
}

/** `sharing.external` was removed in 2.43. */
export function hasExternalSharing(v: Version): boolean {
  return !atLeast(v, 43);
}

/** dataStore: PUT on a missing key creates it since 2.41 (404 before); GET /{ns}/keys since 2.40. */
export function dataStorePutUpserts(v: Version): boolean {
  return atLeast(v, 41);
}
export function dataStoreHasKeysPath(v: Version): boolean {
  return atLeast(v, 40);
}

/**
 * ErrorCode texts lost their trailing period after 2.40 (real 2.42/2.43 reports have "Missing required property
 * `shortName`" and "... for association `dataElement`" without one; the 2022 ErrorCode.java still has them).
 * The exact release is not documented; 2.41 is our best reading.
 */
export function errorMessagesEndWithPeriod(v: Version): boolean {
  return !atLeast(v, 41);
}

/** The importParams echo is part of the bare ImportReport (<= 2.37), as in the dhis2-docs example. */
export function reportsImportParams(v: Version): boolean {
  return !atLeast(v, 38);
}

/**
 * The program dependency export includes program sections since dhis2-core PR #15903 (pca-reference.md: the
 * reference app fetched them separately before it). We date it to 2.41, the first release after the PR.
 */
export function exportsProgramSections(v: Version): boolean {
  return atLeast(v, 41);
}

/**
 * responseType of the async import answer (the JobConfiguration WebMessage). `WebMessageResponse.getResponseType()`
 * strips the "WebMessageResponse" suffix since 2.42.5 and 2.43.1 (recorded: real-2.42.5.2/import-async-validate.json,
 * real-2.43.1/import-async-validate-ok.json); 2.38-2.42.4 and 2.43.0 name the wrapper class (dhis2-api.md).
 */
export function asyncJobResponseType(v: Version): string {
  if (v.major > 2 || v.minor >= 44) return 'JobConfiguration';
  if (v.minor === 43) return v.patch >= 1 ? 'JobConfiguration' : 'JobConfigurationWebMessageResponse';
  if (v.minor === 42) return v.patch >= 5 ? 'JobConfiguration' : 'JobConfigurationWebMessageResponse';
  return 'JobConfigurationWebMessageResponse';
}

/**
 * The async import as recorded on 2.42.5.2 and 2.43.1: answer named "METADATA_IMPORT (<epoch ms>)" with jobStatus
 * NOT_STARTED and the full jobParameters (import-async-*.json); notifications "Metadata import started" ...
 * "Import complete with status ..." (async-*-tasks.json); the taskSummary is the ImportReport with importParams and
 * without responseType (async-*-taskSummaries.json). The names come from the 2.41 scheduler rework
 * (JobConfiguration(name, type): "%s (%d)"), but the only recordings are 2.42.5.2 and 2.43.1, so 2.42+ here;
 * earlier versions keep the emulator's previous shapes.
 */
export function recordedAsyncJobShapes(v: Version): boolean {
  return atLeast(v, 42);
}

/**
 * The 2.41 job scheduler (DefaultJobSchedulerService / DefaultJobSchedulerLoopService "@since 2.41",
 * HibernateJobConfigurationStore): a job only starts (tryStart) when no other job of its type is RUNNING, so a
 * job left RUNNING by a killed server blocks every new import until housekeeping (rescheduleStaleJobs) clears it;
 * GET/DELETE /api/jobConfigurations/{id} and POST .../cancel act on the stored job. Before 2.41 the emulator
 * starts each async import at once and has no job configurations.
 */
export function hasJobScheduler(v: Version): boolean {
  return atLeast(v, 41);
}

/**
 * Updating a program rule action with `templateUid` fails at COMMIT from 2.42: the V2_42 migration replaced the
 * `templateuid` column by a `notificationtemplateid` foreign key, and ProgramRuleAction.setTemplateUid now makes a
 * transient ProgramNotificationTemplate, which Hibernate refuses at flush (TransientPropertyValueException).
 * Recorded: real-2.42.5.2/import-commit-sendmessage.json, real-2.43.1/import-commit-sendmessage-templateuid.json.
 */
export function templateUidUpdateFails(v: Version): boolean {
  return atLeast(v, 42);
}

/**
 * 2.43 answers a request without credentials with 302 to /login/ (the login app) even with Accept: application/json;
 * only X-Requested-With: XMLHttpRequest gets the 401 WebMessage (real-2.43.1/auth-none-redirect, auth-none-xhr).
 * Recorded on 2.43.1 only; the release that introduced it is not pinned down, so 2.43+.
 */
export function redirectsToLoginApp(v: Version): boolean {
  return atLeast(v, 43);
}

/**
 * A malformed personal access token is refused with 400 "Checksum validation failed" (real-2.43.1/auth-bad-token).
 * Recorded on 2.43.1 only, so 2.43+; earlier versions keep 401.
 */
export function rejectsBadTokenChecksum(v: Version): boolean {
  return atLeast(v, 43);
}

/**
 * POST /api/metadata with a body Jackson cannot read (not JSON, an unknown enum constant) answers 409 with only the
 * Jackson message (real-2.43.1/import-validate-not-json.json, import-validate-bad-enum.json). Recorded on 2.43.1
 * only, so 2.43+; earlier versions keep the emulator's 400 for a body that is not JSON and accept unknown enums.
 */
export function fatalBodyErrorsAre409(v: Version): boolean {
  return atLeast(v, 43);
}

/**
 * The object reports of a COMMIT carry no displayName on 2.43.1, those of a VALIDATE of the same payload do
 * (real-2.43.1/import-commit-e5002.json and -atomic-none.json vs import-validate-e5002.json). Recorded on 2.43.1
 * only, so 2.43+.
 */
export function commitReportsOmitDisplayName(v: Version): boolean {
  return atLeast(v, 43);
}

/**
 * The program dependency export of real 2.42.5.2 and 2.43.1 has no top-level `programStageDataElements` /
 * `programTrackedEntityAttributes` (they are only embedded in their stage / program: the real program-metadata-*.json).
 * Earlier versions keep them listed at the top too (DefaultMetadataExportService puts them in the export map);
 * the change is dated to 2.42 by the recordings, not by a dhis2-core commit.
 */
export function exportsEmbeddedAtTop(v: Version): boolean {
  return !atLeast(v, 42);
}

/**
 * Real 2.42.5.2 has no system id: `systemId` is missing from /api/system/info and exports carry `system.id: null`
 * (real-2.42.5.2/system-info.json, program-metadata-COVAC.json); 2.43.1 has one (a UUID). Only 2.42 is known to
 * lack it; other versions keep theirs.
 */
export function hasSystemId(v: Version): boolean {
  return !(v.major === 2 && v.minor === 42);
}

// ---------------------------------------------------------------------------------------------------------------------
// Tracker (/api/tracker, /api/tracker/events, /api/tracker/trackedEntities): see tracker.ts. Sources: dhis2-core's
// source (file versions dated by their content: javax/jakarta imports, table names, @Deprecated(since)), its PRs and
// dhis2-releases' upgrade notes (releases/2.41, 2.42, 2.43 README.md); the 2.43 behaviour itself is the recorded
// real-2.43.1/tracker-*.json. What no source dates keeps the 2.43 behaviour on every version.

/**
 * How a page of tracker exports is serialized:
 * - 'flat' (2.38-2.40): PagingWrapper, `{page, pageSize, total?, pageCount?, instances: [...]}`: the items are always
 *   under `instances` and the pager fields are unwrapped at the top (dhis2-core webapi/controller/event/webrequest/
 *   PagingWrapper.java, identifier "instances", @JsonUnwrapped Pager; TrackerEventsExportController of 2.40 uses
 *   `new PagingWrapper<>()`).
 * - 'both' (2.41): the nested `pager {page, pageSize, total?, pageCount?}` and, deprecated, the same fields flat at the
 *   top; the items under `events` / `trackedEntities` (dhis2-releases releases/2.41/README.md "Deprecated APIs ›
 *   Pagination"; dhis2-core PR #16164).
 * - 'pager' (2.42+): the `pager` only (PR #19950 removed the flat fields; releases/2.42/README.md: "All parameters,
 *   properties and endpoints that have been deprecated in v41 have been removed"). Recorded on 2.43.1.
 * In every shape `total` and `pageCount` are there only with totalPages=true.
 */
export type TrackerPageShape = 'flat' | 'both' | 'pager';
export function trackerPageShape(v: Version): TrackerPageShape {
  if (atLeast(v, 42)) return 'pager';
  return atLeast(v, 41) ? 'both' : 'flat';
}

/**
 * The tracker pager links to the previous and next page (absolute URLs of the request with `page` replaced:
 * webapi/controller/tracker/view/Page.java getPageLink, UriComponentsBuilder.replaceQueryParam) since 2.42; the
 * service fetches pageSize+1 rows to know there is a next page (dhis2-core tracker/Page.java, JdbcTrackerEventStore
 * "get extra event to determine if there is a nextPage"). Recorded on 2.43.1 (`nextPage`). 2.41's pager has no links
 * (view/Page.java at dhis2-core commit 0749d996: a pager then had either links or totals, and the 2.41 controllers
 * built it with totals) and the 2.38-2.40
 * PagingWrapper only copies the legacy Pager's links, which the tracker controllers never set: no links before 2.42.
 */
export function trackerPagerHasLinks(v: Version): boolean {
  return atLeast(v, 42);
}

/**
 * The organisation unit mode parameter(s) the tracker exporters read: `ouMode` only up to 2.40; 2.41 adds
 * `orgUnitMode` and deprecates `ouMode` (EventRequestParams `@Deprecated(since = "2.41") ouMode`; both given → 400 from
 * RequestParamsValidator.validateDeprecatedParameter); 2.42 removed `ouMode` (PR #19965, releases/2.42/README.md), so
 * from 2.42 it is an unknown parameter Spring ignores: `ouMode=ALL` on 2.43.1 answers as no mode at all (recorded
 * tracker-events-ouMode-legacy, same total as tracker-events-no-oumode).
 */
export function trackerOrgUnitModeParams(v: Version): readonly ('ouMode' | 'orgUnitMode')[] {
  if (atLeast(v, 42)) return ['orgUnitMode'];
  return atLeast(v, 41) ? ['orgUnitMode', 'ouMode'] : ['ouMode'];
}

/**
 * Paging switches: `skipPaging` up to 2.41 (deprecated in 2.41), `paging` (its inverse) from 2.41
 * (releases/2.41/README.md; EventRequestParams of 2.41 has both), `skipPaging` removed in 2.42 (PR #19950).
 */
export function trackerPagingParams(v: Version): readonly ('paging' | 'skipPaging')[] {
  if (atLeast(v, 42)) return ['paging'];
  return atLeast(v, 41) ? ['paging', 'skipPaging'] : ['skipPaging'];
}

/**
 * GET /api/tracker/events requires `program` from 2.43 (releases/2.43/README.md "Made program a mandatory parameter in
 * /tracker/events"; EventsExportController `@RequestParam UID program`, so a missing one is Spring's
 * MissingServletRequestParameterException, answered by Tomcat's HTML error page: recorded
 * real-2.43.1/tracker-events-no-program.txt). Optional before (PR #20972 is after the 2.42 branch).
 */
export function trackerEventsRequireProgram(v: Version): boolean {
  return atLeast(v, 43);
}

/**
 * The `null` / `!null` operators in tracker filters: added Jan-Mar 2025 (dhis2-core PRs #19778 event data elements,
 * #20030 tracked entity attributes, #20128 event attributes) with the single-pass FilterParser
 * (webapi/controller/tracker/export/FilterParser.java; PR #20437, backport #20783 to 2.42). Recorded on 2.43.1
 * (tracker-events-count-notnull, tracker-te-count-notnull). Before, the parser wants `uid[:op:value[:op:value]]`
 * (RequestParamUtils/RequestParamsValidator parseQueryItem: 2 or 4 segments after the UID, else "Query item or
 * filter is invalid: ...").
 */
export function trackerFiltersHaveUnaryOperators(v: Version): boolean {
  return atLeast(v, 42);
}

/**
 * `/` escapes `:` and `,` (and, in the single-pass parser, `/`) in tracker filter values since dhis2-core PR #13981
 * (May 2023); per dhis2-android-sdk #1985 the backend has it from 2.40.1 and 2.41.0. 2.38, 2.39 and 2.40.0 split on
 * every `:` and `,`.
 */
export function trackerFiltersHaveEscapes(v: Version): boolean {
  if (v.major > 2 || v.minor >= 41) return true;
  return v.minor === 40 && v.patch >= 1;
}

/**
 * Event data element filters on a data element with an option set compare the option NAME (case-insensitively) for
 * every operator but `in`, which compares the stored code, up to 2.41: the event store joined `optionvalue` on
 * lower(opt.code) = lower(value) and filtered on lower(opt.name) (legacy dxf2 JdbcEventStore, tracker JdbcEventStore of
 * the 2.41 branch). 2.42 removed that join (PR #19778 "removing the join we do to optionvalue"): every operator
 * compares the stored code (recorded on 2.43.1: `eq:TWIN` counts the TWIN events).
 */
export function eventFiltersCompareOptionNames(v: Version): boolean {
  return !atLeast(v, 42);
}

/**
 * GET /api/tracker/trackedEntities without `program`, `trackedEntityType` or `trackedEntities`: from 2.41 the request
 * mapper answers 400 "Either `program`, `trackedEntityType` or `trackedEntities` should be specified"
 * (TrackedEntityRequestParamsMapper.validateRequestParams; controller test getTrackedEntitiesNeedsProgramOrType,
 * HttpStatus.BAD_REQUEST); up to 2.40 the service answered 409 "Either Program or Tracked entity type should be
 * specified" (DefaultTrackedEntityService.validate, an IllegalQueryException).
 */
export function trackedEntitiesNeedProgramOrType(v: Version): { status: number; message: string } {
  return atLeast(v, 41)
    ? { status: 400, message: 'Either `program`, `trackedEntityType` or `trackedEntities` should be specified' }
    : { status: 409, message: 'Either Program or Tracked entity type should be specified' };
}

/**
 * Up to 2.40 GET /api/tracker/trackedEntities without an organisation unit and without a mode is refused with 409
 * "At least one organisation unit must be specified" (controller tests of that line; releases/2.41/README.md TECH-1588
 * made ACCESSIBLE the default). 2.41+: the default is ACCESSIBLE (recorded on 2.43.1: tracker-te-no-oumode, 200).
 */
export function trackedEntitiesRequireOrgUnitOrMode(v: Version): boolean {
  return !atLeast(v, 41);
}

/**
 * Lists of UIDs in tracker export parameters: up to 2.40 the `;`-separated singular ones (`event`, `trackedEntity`,
 * `orgUnit` on /trackedEntities); 2.41 adds the `,`-separated plural ones (`events`, `trackedEntities`, `orgUnits`)
 * and deprecates the others (EventRequestParams / TrackedEntityRequestParams `@Deprecated(since = "2.41")`; both given
 * → 400 from RequestParamsValidator.validateDeprecatedUidsParameter); 2.42 removed the deprecated ones (PR #19950,
 * releases/2.42/README.md), which are then ignored.
 */
export function trackerUidListParams(v: Version): readonly ('plural' | 'legacy')[] {
  if (atLeast(v, 42)) return ['plural'];
  return atLeast(v, 41) ? ['plural', 'legacy'] : ['legacy'];
}
