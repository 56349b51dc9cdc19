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
