/** Small helpers the three backup commands share. */
import type { Dhis2Client } from '../dhis2/client.ts';
import { cell } from '../github/markdown.ts';

/** Names of the programs the server has, by id (one request); a program it lacks is simply absent. */
export async function programNames(client: Dhis2Client, ids: string[]): Promise<Map<string, string>> {
  const found = await client.getObjects('programs', ids, 'id,name');
  return new Map(found.map((p) => [String(p.id), typeof p.name === 'string' ? p.name : String(p.id)]));
}

/** "Name (`id`)" for a summary table, or just the id. */
export function programTitle(id: string, name?: string): string {
  return name ? `${cell(name)} (\`${id}\`)` : `\`${id}\``;
}

/** A comment as the app's list shows it: its first 100 characters (RestoreItem.jsx). */
export function shortComment(comment: string): string {
  return comment.length > 100 ? `${comment.substring(0, 100)}…` : comment;
}
