/**
 * Folder boundaries: the workspace (config, program files, output-dir) and the report folder (reports,
 * rollback points). Every file this tool reads or writes there goes through checkedPath(), which checks
 * REAL paths: the file and each of its parents resolved through symbolic links (for a file not yet created,
 * the deepest folder that exists), so a link in the workspace to a file or folder elsewhere is refused for
 * reading and writing alike. A refusal is one line and never shows a file's content.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  chmodSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';

export interface Boundary {
  /** The folder nothing may leave. */
  root: string;
  /** For messages: "the workspace", "the report folder". */
  name: string;
}

export const workspaceBoundary = (root: string): Boundary => ({ root, name: 'the workspace' });

/** Refused: outside the boundary, through a link, or not a usable path. */
export class PathRefusedError extends UserError {}

/**
 * `path` resolved against the workspace, or undefined when it would leave it (`..`, an absolute path
 * elsewhere). Textual only: a first check at the edge; checkedPath() is the one that counts.
 */
export function resolveInside(workspace: string, path: string): { abs: string; rel: string } | undefined {
  const abs = resolve(workspace, path);
  const rel = relative(workspace, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return { abs, rel };
}

function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `abs`: every existing part resolved through links, the parts not yet created appended
 * as they are. A link whose target does not exist is refused (writing through it would create the target).
 */
function realPath(abs: string, shown: string, what: string): string {
  const missing: string[] = [];
  let current = abs;
  for (;;) {
    try {
      const real = realpathSync(current);
      return missing.length ? join(real, ...missing.reverse()) : real;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new PathRefusedError(`${what} ${shown} cannot be resolved (${code ?? 'error'})`);
      }
    }
    let isLink = false;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      // does not exist at all: look at its parent
    }
    if (isLink) throw new PathRefusedError(`${what} ${shown} is a symbolic link to something that does not exist`);
    const parent = dirname(current);
    if (parent === current) return abs;
    missing.push(basename(current));
    current = parent;
  }
}

/**
 * The real absolute path of `path` (relative to the boundary's root, or absolute), after checking that it
 * and every parent stay inside the boundary's real root. Use the returned path for the I/O.
 */
export function checkedPath(boundary: Boundary, path: string, what: string): string {
  const shown = JSON.stringify(path);
  if (path.includes('\0')) throw new PathRefusedError(`${what} ${shown} contains a NUL character`);
  const abs = resolve(boundary.root, path);
  const rel = relative(boundary.root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new PathRefusedError(`${what} must stay inside ${boundary.name} (got ${shown})`);
  }
  const root = realPath(resolve(boundary.root), JSON.stringify(boundary.root), boundary.name);
  const real = realPath(abs, shown, what);
  if (!within(root, real)) {
    throw new PathRefusedError(`${what} ${shown} leads outside ${boundary.name} through a symbolic link: refused`);
  }
  return real;
}

/** Reads a text file inside the boundary (a leading UTF-8 byte order mark dropped). Undefined when absent. */
export function readTextInside(boundary: Boundary, path: string, what: string): string | undefined {
  const real = checkedPath(boundary, path, what);
  const shown = JSON.stringify(path);
  // Opened first, then asked what it is (fstat of that descriptor), then read from it: a file swapped for a
  // FIFO or a link between a check and the read can't block the run or lead it out (O_NONBLOCK opens a FIFO
  // without waiting for a writer; O_NOFOLLOW refuses a link put in the file's place).
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new PathRefusedError(`${what} ${shown} became a symbolic link: refused`);
    if (code === 'EISDIR') throw new PathRefusedError(`${what} ${shown} is a folder, not a file`);
    throw new PathRefusedError(`${what} ${shown} cannot be read (${code})`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new PathRefusedError(`${what} ${shown} is a folder, not a file`);
    if (!stat.isFile()) throw new PathRefusedError(`${what} ${shown} is not a regular file`);
    try {
      return readFileSync(fd, 'utf8').replace(/^\uFEFF/, '');
    } catch (e) {
      throw new PathRefusedError(`${what} ${shown} cannot be read (${(e as NodeJS.ErrnoException).code})`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file inside the boundary, creating its folders; the last step refuses to follow a link
 * (O_NOFOLLOW), so a link put in its place after the check is not written through. Returns the real path.
 */
export function writeTextInside(boundary: Boundary, path: string, text: string, what: string, mode = 0o644): string {
  const shown = JSON.stringify(path);
  let real = checkedPath(boundary, path, what);
  try {
    mkdirSync(dirname(real), { recursive: true });
  } catch (e) {
    throw new PathRefusedError(
      `${what} ${shown}: cannot create its folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  real = checkedPath(boundary, path, what);
  let fd: number;
  try {
    fd = openSync(real, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0), mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new PathRefusedError(`${what} ${shown} is a folder, not a file`);
    if (code === 'ELOOP') throw new PathRefusedError(`${what} ${shown} became a symbolic link: refused`);
    throw new PathRefusedError(`${what} ${shown} cannot be written (${code ?? 'error'})`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return real;
}

/**
 * A folder only this user can use (mode 0700), created when missing. An existing one must be a real folder
 * (not a link) owned by this user; it is made private again if it was not.
 */
export function ensurePrivateDir(dir: string): void {
  const shown = JSON.stringify(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new PathRefusedError(`cannot create the report folder ${shown} (${(e as NodeJS.ErrnoException).code})`);
  }
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new PathRefusedError(`the report folder ${shown} is a symbolic link or not a folder: refused`);
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stat.uid !== uid) {
    throw new PathRefusedError(
      `the report folder ${shown} belongs to another user: refused (set DHIS2_METADATA_REPORT_DIR to a folder of yours)`,
    );
  }
  if (uid !== undefined && (stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
