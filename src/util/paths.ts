import { isAbsolute, relative, resolve } from 'node:path';

/**
 * `path` resolved against the workspace, or undefined when it would leave it (`..`, an absolute path
 * elsewhere). Every file this tool writes or reads in the workspace goes through here.
 */
export function resolveInside(workspace: string, path: string): { abs: string; rel: string } | undefined {
  const abs = resolve(workspace, path);
  const rel = relative(workspace, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return { abs, rel };
}
