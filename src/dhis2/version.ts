/**
 * DHIS2 versions as /api/system/info reports them: "2.41.3", hotfixes "2.40.4.1", dev builds
 * "2.39-SNAPSHOT", release candidates "2.43.0-rc1".
 */
export interface Dhis2Version {
  major: number;
  minor: number;
  patch: number;
  /** The 4th number of a hotfix release (2.40.4.1 -> 1); 0 when absent. */
  hotfix: number;
  /** What follows the numbers, e.g. SNAPSHOT or rc1. */
  qualifier?: string;
}

const VERSION = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+_. ]?([0-9A-Za-z][0-9A-Za-z.+_-]*))?$/;

/** Returns undefined for anything that is not a version. */
export function parseVersion(text: string): Dhis2Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  let major = Number(m[1]);
  let minor = Number(m[2]);
  let patch = Number(m[3] ?? 0);
  let hotfix = Number(m[4] ?? 0);
  // Should a release ever drop the "2." prefix ("42.1.0"), keep comparing on the 2.<minor> scale the rest of
  // the code uses: the numbers that follow shift left.
  if (major >= 30) {
    hotfix = patch;
    patch = minor;
    minor = major;
    major = 2;
  }
  const version: Dhis2Version = { major, minor, patch, hotfix };
  if (m[5]) version.qualifier = m[5];
  return version;
}

/**
 * True when `v` is 2.<minor>.<patch> or newer. Pre-releases (2.43.0-rc1, 2.39-SNAPSHOT) count as their
 * release: they already carry its API, which is what version checks are about.
 */
export function versionAtLeast(v: Pick<Dhis2Version, 'major' | 'minor' | 'patch'>, minor: number, patch = 0): boolean {
  if (v.major !== 2) return v.major > 2;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}
