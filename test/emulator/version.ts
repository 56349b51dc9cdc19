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
