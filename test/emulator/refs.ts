/** Walking the references of a metadata object, the way DHIS2's preheat collects them. */
import { refId } from './normalize.ts';
import { EMBEDDED, NOT_WALKED, REFERENCES, klassOf } from './schema.ts';
import { isObj, type Obj } from './store.ts';

/** The object a reference was found on: the top-level object, or an embedded one (a PSDE in a stage). */
export interface Holder {
  collection: string;
  klass: string;
  id: string;
  name: unknown;
}

export type ReferenceVisitor = (target: string, id: string, association: string, holder: Holder) => void;

/**
 * Calls `visit` for every reference in `node`: REFERENCES properties at any depth (not into the references
 * themselves), `attributeValues[].attribute` (association `attributeValues`), and the references of
 * embedded objects, reported on the embedded object. Sharing is not walked (see sharingReferences).
 */
export function forEachReference(node: Obj, collection: string, visit: ReferenceVisitor): void {
  const holder: Holder = {
    collection,
    klass: klassOf(collection),
    id: typeof node.id === 'string' ? node.id : '',
    name: node.name,
  };
  const walk = (n: Obj): void => {
    for (const [k, value] of Object.entries(n)) {
      if (NOT_WALKED.has(k) || value === null || typeof value !== 'object') continue;
      if (k === 'attributeValues' && Array.isArray(value)) {
        for (const av of value) {
          const id = isObj(av) ? refId(av.attribute) : undefined;
          if (id) visit('attributes', id, 'attributeValues', holder);
        }
        continue;
      }
      const embedded = n === node ? EMBEDDED[collection]?.[k] : undefined;
      if (embedded && Array.isArray(value)) {
        for (const e of value) if (isObj(e)) forEachReference(e, embedded, visit);
        continue;
      }
      const target = REFERENCES[k];
      if (target) {
        for (const ref of Array.isArray(value) ? value : [value]) {
          const id = refId(ref);
          if (id) visit(target, id, k, holder);
        }
        continue;
      }
      if (Array.isArray(value)) for (const x of value) if (isObj(x)) walk(x);
      if (isObj(value)) walk(value);
    }
  };
  walk(node);
}
