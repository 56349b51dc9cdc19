/**
 * The DHIS2 dataStore (dhis2-api.md): GET /api/dataStore/{ns}/{key} answers the raw JSON value or 404;
 * POST creates (201, 409 when the key exists); PUT replaces (200; 404 for a missing key before 2.41, an
 * upsert since); DELETE answers 200 or 404. The keys of a namespace are at /{ns}/keys since 2.40, and at
 * /{ns} before (DatastoreController: the old path clashes with the entries query, so it was renamed).
 */
import { Dhis2Error } from '../errors.ts';
import type { Http } from './http.ts';

export interface DataStore {
  /** The value, or undefined when the namespace or key does not exist. */
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  /** Creates the key; Dhis2Error "already exists" when it does. */
  create(namespace: string, key: string, value: unknown): Promise<void>;
  /** Replaces the value of an existing key (2.41+ also creates it). */
  update(namespace: string, key: string, value: unknown): Promise<void>;
  /** The keys of a namespace; [] when the namespace does not exist. */
  keys(namespace: string): Promise<string[]>;
  /** true when the key existed and was deleted. */
  remove(namespace: string, key: string): Promise<boolean>;
}

export class DataStoreApi implements DataStore {
  constructor(
    private readonly http: Http,
    private readonly atLeast: (minor: number, patch?: number) => boolean,
  ) {}

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    // A read: safe to retry.
    const res = await this.http.request({ method: 'GET', path: entryPath(namespace, key), retry: true, expect: [404] });
    if (res.status === 404) return undefined;
    return res.body as T;
  }

  async create(namespace: string, key: string, value: unknown): Promise<void> {
    // Not retried: if the first POST landed but its answer was lost, the retry would answer 409 "exists".
    const res = await this.http.request({
      method: 'POST',
      path: entryPath(namespace, key),
      body: value,
      retry: false,
      expect: [409],
    });
    if (res.status === 409) {
      throw new Dhis2Error(`dataStore key ${namespace}/${key} already exists on ${this.http.server}`, 409);
    }
  }

  async update(namespace: string, key: string, value: unknown): Promise<void> {
    // PUT replaces the whole value: sending it twice leaves the same value, so a retry is safe.
    const res = await this.http.request({
      method: 'PUT',
      path: entryPath(namespace, key),
      body: value,
      retry: true,
      expect: [404],
    });
    if (res.status === 404) {
      throw new Dhis2Error(
        `dataStore key ${namespace}/${key} does not exist on ${this.http.server}, and this DHIS2 version ` +
          'cannot create a key with an update (2.41+ can): create it first',
        404,
      );
    }
  }

  async keys(namespace: string): Promise<string[]> {
    checkName('namespace', namespace);
    const ns = encodeURIComponent(namespace);
    const path = this.atLeast(40) ? `dataStore/${ns}/keys` : `dataStore/${ns}`;
    const res = await this.http.request({ method: 'GET', path, retry: true, expect: [404] });
    if (res.status === 404) return [];
    if (!Array.isArray(res.body) || !res.body.every((k) => typeof k === 'string')) {
      throw new Dhis2Error(`${this.http.server} answered GET /api/${path} with something that is not a list of keys`);
    }
    return res.body as string[];
  }

  async remove(namespace: string, key: string): Promise<boolean> {
    // Not retried: a retry after a lost answer would say 404 and turn "deleted" into "was not there".
    const res = await this.http.request({
      method: 'DELETE',
      path: entryPath(namespace, key),
      retry: false,
      expect: [404],
    });
    return res.status !== 404;
  }
}

function entryPath(namespace: string, key: string): string {
  checkName('namespace', namespace);
  checkName('key', key);
  return `dataStore/${encodeURIComponent(namespace)}/${encodeURIComponent(key)}`;
}

/** Tomcat refuses an encoded slash in a path (400) unless told otherwise: say so before sending. */
function checkName(what: string, value: string): void {
  if (!value) throw new Dhis2Error(`a dataStore ${what} must not be empty`);
  if (value.includes('/'))
    throw new Dhis2Error(`dataStore ${what} "${value}" contains "/", which DHIS2 cannot address`);
}
