/**
 * What the restore plan keeps of the server: its organisation units and sharing (the reference app's
 * keepOUnits / keepSharing, and `overwrite`), and the keys a file may lack without meaning "remove it".
 */
import type { RestoreOptions } from '../config/types.ts';
import { cloneJson, idOf } from './json.ts';
import { REMOVAL_KEYS } from './keys.ts';
import { count } from './restore-helpers.ts';
import { hasSharingFor, sharingOnly, withModernSharing, withSharingOf } from './sharing.ts';
import type { ServerState } from './restore-plan.ts';
import type { MetadataDocument, MetadataObject } from './types.ts';

/**
 * Keys a file may lack without meaning "remove it": what export presets and the app's backups strip
 * (categories, legend sets) and the config's per-collection `attributes:` removals. DHIS2 replaces the
 * whole object on import, so sending an existing object without them would reset its category combo to
 * the default or drop its legend sets (an HNQIS program's scoring colours). Absent, they are taken from the
 * server; present (even empty), the file's value is sent.
 */
export interface Unmanaged {
  keys: readonly string[];
  perCollection?: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_UNMANAGED: Unmanaged = {
  keys: [...REMOVAL_KEYS.categories, ...REMOVAL_KEYS.legendSets],
};

/** Sets `program.organisationUnits` for the chosen mode; returns the notes. */
export function planOrganisationUnits(
  program: MetadataObject,
  fileProgram: MetadataObject,
  serverProgram: MetadataObject | undefined,
  mode: RestoreOptions['organisationUnits'],
): string[] {
  const fileUnits = Array.isArray(fileProgram.organisationUnits) ? fileProgram.organisationUnits : [];
  const serverUnits =
    serverProgram && Array.isArray(serverProgram.organisationUnits) ? serverProgram.organisationUnits : [];
  if (mode === 'overwrite' && fileUnits.length > 0) {
    program.organisationUnits = cloneJson(fileUnits);
    return [`Organisation units: the file's ${count(fileUnits.length, 'assignments')} replace the server's.`];
  }
  if (serverProgram === undefined) {
    // Nothing to keep: a new program starts unassigned, whatever the file says under `keep`.
    program.organisationUnits = [];
    return [
      mode === 'keep' && fileUnits.length > 0
        ? `Organisation units: the program is not on the server yet, so it is sent without any ` +
          `(organisationUnits: keep; the file's ${fileUnits.length} are used with overwrite).`
        : 'Organisation units: the program is not on the server yet and the file has none: sent without any.',
    ];
  }
  program.organisationUnits = cloneJson(serverUnits);
  if (mode === 'overwrite') {
    // An empty or missing list would unassign the program everywhere: a file exported without
    // organisation units (e.g. for another server) means "not mine to say", not "none".
    return [
      `Organisation units: the file has none, so the server's ${serverUnits.length} are kept ` +
        `(overwriting with none would unassign the program everywhere).`,
    ];
  }
  return [`Organisation units: kept the server's ${count(serverUnits.length, 'assignments')}.`];
}

/** Applies the sharing mode to every top-level object of `payload` (in place: it is our copy); returns the notes. */
export function planSharing(
  payload: MetadataDocument,
  mode: RestoreOptions['sharing'],
  server: ServerState,
  current: Map<string, Map<string, MetadataObject>>,
): string[] {
  const modern = sharingOnly(server.minor);
  let fromServer = 0;
  let fromFile = 0;
  let filledFromServer = 0;
  let converted = 0;
  let newObjects = 0;

  // The file's sharing, in the form the target reads.
  const fileSharing = (obj: MetadataObject): MetadataObject => {
    if (!modern) return obj;
    const next = withModernSharing(obj);
    if (next !== obj) converted++;
    return next;
  };

  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    payload[key] = value.map((obj: MetadataObject) => {
      const id = idOf(obj);
      const serverObj = id === undefined ? undefined : (server.existing.get(id) ?? current.get(key)?.get(id));
      if (serverObj === undefined) {
        newObjects++;
        return fileSharing(obj);
      }
      if (mode === 'overwrite') {
        const own = fileSharing(obj);
        if (hasSharingFor(own, server.minor)) {
          fromFile++;
          return own;
        }
        const kept = withSharingOf(own, serverObj);
        if (kept !== own) filledFromServer++;
        return kept;
      }
      const kept = withSharingOf(obj, serverObj);
      if (kept !== obj) {
        fromServer++;
        return kept;
      }
      // The server's copy says nothing about sharing (a type without sharing, or not read): the file's.
      return fileSharing(obj);
    });
  }

  const notes: string[] = [];
  const created = newObjects > 0 ? `; ${count(newObjects, 'new objects')} take the file's` : '';
  if (mode === 'keep') {
    notes.push(`Sharing: kept the server's on ${count(fromServer, 'existing objects')}${created}.`);
  } else {
    notes.push(`Sharing: the file's on ${count(fromFile, 'existing objects')}${created}.`);
    if (filledFromServer > 0) {
      notes.push(
        `Sharing: ${count(filledFromServer, 'existing objects')} have no sharing in the file and keep the server's` +
          (modern ? ` (DHIS2 2.${server.minor} would reset them to the default).` : '.'),
      );
    }
  }
  if (converted > 0) {
    notes.push(`Sharing: converted the legacy sharing of ${count(converted, 'objects')} to \`sharing\`.`);
  }
  return notes;
}

/** Existing objects lacking an unmanaged key get the server's value (see Unmanaged). */
export function keepUnmanaged(
  payload: MetadataDocument,
  unmanaged: Unmanaged,
  server: ServerState,
  current: Map<string, Map<string, MetadataObject>>,
): string[] {
  const counts = new Map<string, number>();
  for (const [key, value] of Object.entries(payload)) {
    if (!Array.isArray(value)) continue;
    const keys = [...unmanaged.keys, ...(unmanaged.perCollection?.[key] ?? [])];
    if (keys.length === 0) continue;
    payload[key] = (value as MetadataObject[]).map((obj) => {
      const id = idOf(obj);
      const serverObj = id === undefined ? undefined : (server.existing.get(id) ?? current.get(key)?.get(id));
      if (serverObj === undefined) return obj;
      let out = obj;
      for (const k of keys) {
        if (k in obj || serverObj[k] === undefined) continue;
        if (out === obj) out = { ...obj };
        out[k] = cloneJson(serverObj[k]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return out;
    });
  }
  if (counts.size === 0) return [];
  const what = [...counts].map(([k, n]) => `${k} on ${n}`).join(', ');
  return [`The file does not carry ${[...counts.keys()].join(', ')}: kept the server's (${what} existing objects).`];
}
