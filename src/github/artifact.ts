/**
 * Uploads files as a workflow artifact. Only possible inside a runner: @actions/artifact needs the
 * runtime token and results URL the runner gives to actions; outside one the caller skips with a notice.
 */
import { UserError } from '../errors.ts';

/** Artifact names must be unique within a run and avoid a few characters. */
export function artifactName(prefix: string, parts: string[]): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');
  const name = [prefix, ...parts].map(clean).join('-');
  return name.length <= 200 ? name : name.slice(0, 200);
}

export async function uploadArtifact(
  name: string,
  files: string[],
  rootDirectory: string,
  retentionDays?: number,
): Promise<{ id?: number; size?: number }> {
  try {
    // Loaded on demand: the artifact client is most of the bundle and only export/restore in a runner need it.
    const { DefaultArtifactClient } = await import('@actions/artifact');
    const client = new DefaultArtifactClient();
    return await client.uploadArtifact(name, files, rootDirectory, retentionDays ? { retentionDays } : {});
  } catch (e) {
    throw new UserError(`artifact upload "${name}" failed: ${(e as Error).message}`);
  }
}
