/**
 * The `fields` and `filter` query languages of the DHIS2 Web API, as far as metadata reads use them:
 * fields `id,name,legends[id,name]`, `*`, `:all`, `:owner`, `:identifiable`, `:nameable`, `!exclude`;
 * filters `property.path:operator:value` (eq, !eq/ne/neq, in, !in, like, ilike (and negations), $like,
 * like$, null, !null, empty, !empty, gt/ge/lt/le) combined by rootJunction AND (default) or OR.
 */
import { REFERENCES } from './schema.ts';
import { isObj, type Obj } from './store.ts';

export interface FieldItem {
  name: string;
  exclude: boolean;
  children?: FieldSpec;
}
export type FieldSpec = FieldItem[];

/** Splits on commas that are not inside brackets. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function parseFields(text: string): FieldSpec {
  return splitTop(text).map((item): FieldItem => {
    const exclude = item.startsWith('!');
    const body = exclude ? item.slice(1) : item;
    const open = body.search(/[[(]/);
    if (open < 0) return { name: body.replace(/~.*$/, ''), exclude };
    const name = body.slice(0, open).replace(/~.*$/, '');
    return { name, exclude, children: parseFields(body.slice(open + 1, -1)) };
  });
}

export type Resolver = (collection: string, id: string) => Obj | undefined;

const IDENTIFIABLE = ['id', 'name', 'code', 'created', 'lastUpdated', 'createdBy', 'lastUpdatedBy'];
const NAMEABLE = [...IDENTIFIABLE, 'shortName', 'description'];

/** Properties DHIS2 computes on read. */
function computed(o: Obj, name: string): unknown {
  switch (name) {
    case 'displayName':
      return o.displayName ?? o.name;
    case 'displayShortName':
      return o.displayShortName ?? o.shortName ?? o.name;
    case 'displayFormName':
      return o.displayFormName ?? o.formName ?? o.name;
    case 'displayDescription':
      return o.displayDescription ?? o.description;
    default:
      return undefined;
  }
}

function expandPreset(o: Obj, name: string): string[] | undefined {
  switch (name) {
    case '*':
    case ':all': {
      const keys = Object.keys(o);
      for (const d of ['displayName', 'displayShortName'] as const) if (computed(o, d) !== undefined) keys.push(d);
      return [...new Set(keys)];
    }
    case ':owner':
      return Object.keys(o);
    case ':identifiable':
      return IDENTIFIABLE;
    case ':nameable':
      return NAMEABLE;
    default:
      return name.startsWith(':') ? Object.keys(o) : undefined;
  }
}

/** Applies a field spec to an object; references are resolved from the store when a sub-selection asks for more. */
export function applyFields(o: Obj, spec: FieldSpec, resolve: Resolver): Obj {
  const out: Obj = {};
  const excluded = new Set<string>();
  for (const f of spec) {
    if (f.exclude) {
      excluded.add(f.name);
      continue;
    }
    const preset = expandPreset(o, f.name);
    if (preset) {
      for (const k of preset) {
        const v = k in o ? o[k] : computed(o, k);
        if (v !== undefined && !(k in out)) out[k] = v;
      }
      continue;
    }
    const v = f.name in o ? o[f.name] : computed(o, f.name);
    if (v === undefined) continue;
    out[f.name] = f.children ? applyChildren(f.name, v, f.children, resolve) : v;
  }
  for (const k of excluded) delete out[k];
  return out;
}

function applyChildren(prop: string, v: unknown, children: FieldSpec, resolve: Resolver): unknown {
  const target = REFERENCES[prop];
  const one = (x: unknown): unknown => {
    if (!isObj(x)) return x;
    const full = target && typeof x.id === 'string' ? (resolve(target, x.id) ?? x) : x;
    return applyFields(full, children, resolve);
  };
  return Array.isArray(v) ? v.map(one) : one(v);
}

// ---------------------------------------------------------------------------------------------------------------------
// Filters

export interface Filter {
  path: string[];
  op: string;
  value: string;
}

export class FilterError extends Error {}

export function parseFilter(text: string): Filter {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (first < 0) throw new FilterError(`Invalid filter: ${text}`);
  const path = text.slice(0, first).split('.');
  const op = second < 0 ? text.slice(first + 1) : text.slice(first + 1, second);
  const value = second < 0 ? '' : text.slice(second + 1);
  return { path, op, value };
}

function leaves(v: unknown, path: string[]): unknown[] {
  if (path.length === 0) return Array.isArray(v) ? v : [v];
  if (Array.isArray(v)) return v.flatMap((x) => leaves(x, path));
  if (!isObj(v)) return [];
  const [head, ...rest] = path;
  const next = head! in v ? v[head!] : computed(v, head!);
  return next === undefined || next === null ? [] : leaves(next, rest);
}

function listValue(value: string): string[] {
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return inner.split(',').map((x) => x.trim());
}

export function matches(o: Obj, f: Filter): boolean {
  const vals = leaves(o, f.path);
  const strs = vals.filter((x) => x !== null && typeof x !== 'object').map(String);
  const num = Number(f.value);
  const lower = f.value.toLowerCase();
  switch (f.op) {
    case 'eq':
      return strs.includes(f.value);
    case '!eq':
    case 'ne':
    case 'neq':
      return !strs.includes(f.value);
    case 'ieq':
      return strs.some((s) => s.toLowerCase() === lower);
    case 'in':
      return strs.some((s) => listValue(f.value).includes(s));
    case '!in':
      return !strs.some((s) => listValue(f.value).includes(s));
    case 'like':
      return strs.some((s) => s.includes(f.value));
    case '!like':
      return !strs.some((s) => s.includes(f.value));
    case 'ilike':
    case 'token':
      return strs.some((s) => s.toLowerCase().includes(lower));
    case '!ilike':
      return !strs.some((s) => s.toLowerCase().includes(lower));
    case '$like':
      return strs.some((s) => s.startsWith(f.value));
    case '$ilike':
      return strs.some((s) => s.toLowerCase().startsWith(lower));
    case 'like$':
      return strs.some((s) => s.endsWith(f.value));
    case 'ilike$':
      return strs.some((s) => s.toLowerCase().endsWith(lower));
    case 'null':
      return vals.length === 0;
    case '!null':
      return vals.length > 0;
    case 'empty':
      return vals.length === 0 || vals.every((x) => Array.isArray(x) && x.length === 0);
    case '!empty':
      return vals.some((x) => !(Array.isArray(x) && x.length === 0));
    case 'gt':
      return strs.some((s) => Number(s) > num);
    case 'ge':
      return strs.some((s) => Number(s) >= num);
    case 'lt':
      return strs.some((s) => Number(s) < num);
    case 'le':
      return strs.some((s) => Number(s) <= num);
    default:
      throw new FilterError(`Unsupported filter operator: ${f.op}`);
  }
}

export function matchesAll(o: Obj, filters: Filter[], junction: 'AND' | 'OR'): boolean {
  if (filters.length === 0) return true;
  return junction === 'OR' ? filters.some((f) => matches(o, f)) : filters.every((f) => matches(o, f));
}
