/** Small helpers the restore plan's parts share. */
import { idOf } from './json.ts';
import type { MetadataDocument, MetadataObject } from './types.ts';

export function indexByCollection(doc: MetadataDocument | undefined): Map<string, Map<string, MetadataObject>> {
  const index = new Map<string, Map<string, MetadataObject>>();
  if (doc === undefined) return index;
  for (const [key, value] of Object.entries(doc)) {
    if (!Array.isArray(value)) continue;
    const byId = new Map<string, MetadataObject>();
    for (const obj of value) {
      const id = idOf(obj);
      if (id !== undefined) byId.set(id, obj as MetadataObject);
    }
    index.set(key, byId);
  }
  return index;
}

export function ids(objects: readonly MetadataObject[]): string[] {
  return objects.map((obj) => idOf(obj)).filter((id): id is string => id !== undefined);
}

/** "3 programStages", "1 programStage": collection names and plain plurals read right either way. */
export function count(n: number, plural: string): string {
  return `${n} ${n === 1 && plural.endsWith('s') ? plural.slice(0, -1) : plural}`;
}
