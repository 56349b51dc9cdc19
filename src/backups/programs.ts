/** Small helpers the three backup commands share. */
import type { Dhis2Client } from '../dhis2/client.ts';
import { isRecord } from '../metadata/json.ts';
import { redact } from '../util/secrets.ts';

/** Names of the programs the server has, by id (one request); a program it lacks is simply absent. */
export async function programNames(client: Dhis2Client, ids: string[]): Promise<Map<string, string>> {
  const found = await client.getObjects('programs', ids, 'id,name');
  return new Map(found.map((p) => [String(p.id), typeof p.name === 'string' ? p.name : String(p.id)]));
}

/** A comment as the app's list shows it: its first 100 characters (RestoreItem.jsx). */
export function shortComment(comment: string): string {
  // Redacted before it is cut: a secret cut in two would no longer be found.
  const text = redact(comment);
  return text.length > 100 ? `${text.substring(0, 100)}…` : text;
}

/** The program's name as a backup holds it (newest first): for a program no longer on the server. */
export function nameInBackups(backups: readonly unknown[], programId: string): string | undefined {
  for (const record of [...backups].reverse()) {
    const programs = isRecord(record) && isRecord(record.metadata) ? record.metadata.programs : undefined;
    if (!Array.isArray(programs)) continue;
    const program = programs.find((p) => isRecord(p) && p.id === programId) as Record<string, unknown> | undefined;
    if (typeof program?.name === 'string') return program.name;
  }
  return undefined;
}

/** "1 backup", "3 backups". */
export function backupCount(n: number): string {
  return `${n} backup${n === 1 ? '' : 's'}`;
}
