/**
 * /api/dataStore (dhis2-api.md): GET lists namespaces; GET /{ns} lists keys (404 for an unknown namespace),
 * as does GET /{ns}/keys since 2.40; GET /{ns}/{key} answers the raw JSON value or 404; POST creates (201,
 * 409 if the key exists); PUT replaces (200; a missing key is 404 before 2.41 and created since); DELETE
 * removes a key or a whole namespace (200/404). Errors are WebMessages.
 */
import { webMessage, type Reply, type State } from './state.ts';
import { atLeast } from './version.ts';
import { dataStoreHasKeysPath, dataStorePutUpserts } from './version.ts';

export function dataStoreRoute(state: State, method: string, segments: string[], rawBody: string): Reply {
  const ds = state.dataStore;
  const [ns, key, extra] = segments;
  const allow = (...methods: string[]): Reply => ({
    ...webMessage(405, `Request method '${method}' is not supported`),
    headers: { Allow: methods.join(', ') },
  });
  if (ns === undefined) {
    if (method !== 'GET') return allow('GET');
    return { status: 200, body: [...ds.keys()].filter((n) => (ds.get(n)?.size ?? 0) > 0).sort() };
  }
  const space = ds.get(ns);
  const nsMissing = (): Reply => webMessage(404, `Namespace not found: '${ns}'`);
  if (key === undefined) {
    if (method === 'GET') return space?.size ? { status: 200, body: [...space.keys()].sort() } : nsMissing();
    if (method === 'DELETE') {
      if (!space?.size) return nsMissing();
      ds.delete(ns);
      return webMessage(200, `Namespace '${ns}' deleted.`);
    }
    return allow('GET', 'DELETE');
  }
  if (extra !== undefined) return webMessage(404, `Not found: /api/dataStore/${segments.join('/')}`);
  if (key === 'keys' && method === 'GET' && dataStoreHasKeysPath(state.version)) {
    return space?.size ? { status: 200, body: [...space.keys()].sort() } : nsMissing();
  }
  // Texts and error codes as recorded on 2.43.1 (real-2.43.1/datastore-*.json); the codes only from 2.43.
  const code = (c: string): Record<string, string> => (atLeast(state.version, 43) ? { errorCode: c } : {});
  const keyMissing = (): Reply => webMessage(404, `Key '${key}' not found in namespace '${ns}'`, code('E1005'));
  const parse = (): { ok: true; value: unknown } | { ok: false; reply: Reply } => {
    try {
      return { ok: true, value: JSON.parse(rawBody) as unknown };
    } catch {
      return { ok: false, reply: webMessage(400, `Invalid JSON value for key '${key}'`) };
    }
  };
  switch (method) {
    case 'GET':
      return space?.has(key) ? { status: 200, body: space.get(key) } : keyMissing();
    case 'POST': {
      if (space?.has(key)) return webMessage(409, `Key '${key}' already exists in namespace '${ns}'`, code('E1004'));
      const parsed = parse();
      if (!parsed.ok) return parsed.reply;
      ds.set(ns, space ?? new Map());
      ds.get(ns)!.set(key, parsed.value);
      return webMessage(201, `Key created: '${key}'`);
    }
    case 'PUT': {
      const existed = !!space?.has(key);
      if (!existed && !dataStorePutUpserts(state.version)) return keyMissing();
      const parsed = parse();
      if (!parsed.ok) return parsed.reply;
      ds.set(ns, space ?? new Map());
      ds.get(ns)!.set(key, parsed.value);
      // real-2.43.1/datastore-put-missing: 201 "Key created" for a PUT that creates; recorded on 2.43.1 only, so
      // 2.43+ (2.41-2.42 keep 200).
      if (!existed && atLeast(state.version, 43)) return webMessage(201, `Key created: '${key}'`);
      return webMessage(200, `Key updated: '${key}'`);
    }
    case 'DELETE': {
      if (!space?.has(key)) return keyMissing();
      space.delete(key);
      if (space.size === 0) ds.delete(ns);
      return webMessage(200, `Key '${key}' deleted from namespace '${ns}'.`);
    }
    default:
      return allow('GET', 'POST', 'PUT', 'DELETE');
  }
}
