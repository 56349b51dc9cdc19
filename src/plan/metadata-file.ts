/**
 * Reading a program's metadata file from the workspace, and finding where an object sits in it, so that
 * import errors are annotated on the line of the offending object (visible in the PR's diff view).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.ts';
import { exceedsDepth } from '../metadata/json.ts';
import type { MetadataDocument } from '../metadata/types.ts';
import { readTextInside, workspaceBoundary } from '../util/paths.ts';

export interface MetadataFile {
  /** Workspace-relative path (or, for an in-server backup, what it is), for messages and annotations. */
  path: string;
  /** False for metadata that is not a file of the repo (an in-server backup): nothing to annotate. */
  inRepo?: boolean;
  text: string;
  doc: MetadataDocument;
}

/** Deeper than any DHIS2 metadata (about 10 levels); beyond it the file is refused before parsing. */
export const MAX_JSON_DEPTH = 100;
/** Top-level keys of a DHIS2 export or package that are not collections. */
const HEADER_KEYS: ReadonlySet<string> = new Set(['system', 'package', 'date']);

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Checks JSON syntax without recursion and without quoting the text: the offset of the first error and
 * what kind it is, or of the first value nested deeper than `maxDepth`. Undefined when the text is fine.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): { offset: number; problem: string } | undefined {
  const stack: ('{' | '[')[] = [];
  // What may come next: a value, a key (or `}` right after `{`), `:`, `,` or a closer, or nothing.
  let expect: 'value' | 'first-value' | 'key' | 'first-key' | 'colon' | 'after' | 'end' = 'value';
  let i = 0;
  const n = text.length;
  const fail = (problem: string, at = i) => ({ offset: Math.min(at, n), problem });
  while (i < n) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (expect === 'end') return fail('unexpected text after the end of the JSON value');
    if (expect === 'colon') {
      if (c !== ':') return fail('expected ":" after a key');
      expect = 'value';
      i++;
      continue;
    }
    if (expect === 'after') {
      const open = stack[stack.length - 1];
      if (c === ',' && open) {
        expect = open === '{' ? 'key' : 'value';
        i++;
        continue;
      }
      if ((c === '}' && open === '{') || (c === ']' && open === '[')) {
        stack.pop();
        expect = stack.length ? 'after' : 'end';
        i++;
        continue;
      }
      return fail(open ? `expected "," or "${open === '{' ? '}' : ']'}"` : 'unexpected character');
    }
    if (expect === 'key' || expect === 'first-key') {
      if (c === '}' && expect === 'first-key') {
        stack.pop();
        expect = stack.length ? 'after' : 'end';
        i++;
        continue;
      }
      if (c !== '"') return fail('expected a key in double quotes');
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      expect = 'colon';
      continue;
    }
    // A value.
    if (c === ']' && expect === 'first-value') {
      stack.pop();
      expect = stack.length ? 'after' : 'end';
      i++;
      continue;
    }
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) return fail(`nested deeper than ${maxDepth} levels`);
      stack.push(c);
      expect = c === '{' ? 'first-key' : 'first-value';
      i++;
      continue;
    }
    if (c === '"') {
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
    } else {
      const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
      if (!literal) return fail(c === '\0' ? 'a NUL character' : 'unexpected character');
      i += literal[0].length;
    }
    expect = stack.length ? 'after' : 'end';
  }
  if (expect !== 'end') return fail('unexpected end of the file', n);
  return undefined;
}

/** The offset just past the string starting at `start`, or the error. */
function scanString(text: string, start: number): number | { offset: number; problem: string } {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20)
      return { offset: i, problem: code === 0 ? 'a NUL character in a string' : 'a control character in a string' };
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, problem: 'a bad \\u escape' };
        i += 5;
      } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i++;
      else return { offset: i, problem: 'a bad escape in a string' };
    }
  }
  return { offset: text.length, problem: 'a string that never ends' };
}

/**
 * Reads a program's metadata file from the workspace (real paths checked: src/util/paths.ts) and checks it
 * is a DHIS2 metadata document before anything is sent anywhere. Every problem is one line naming the file
 * and where in it; the file's content is never quoted.
 */
export function readMetadataFile(
  workspace: string,
  path: string,
  hint: string,
  progress?: (message: string) => void,
): MetadataFile {
  let text: string | undefined;
  try {
    text = readTextInside(workspaceBoundary(workspace), path, 'file');
  } catch (e) {
    throw new UserError((e as Error).message, { file: path });
  }
  if (text === undefined) throw new UserError(`${path} not found in the workspace (${hint})`, { file: path });
  return parseMetadataText(text, path, progress);
}

/**
 * Past this size a metadata file is scanned before JSON.parse builds it (parseMetadataText): at 8 million
 * characters a text nested as deep as it can be takes JSON.parse about 250 MB, which a run can afford; WHO's
 * largest packages are 2 to 5 MB.
 */
export const SCAN_FIRST_CHARS = 8_000_000;

/** From this size on, reading a metadata file says so (`progress`): 20 MB take a second or more to check and parse. */
export const LARGE_FILE_CHARS = 20_000_000;

/** The error for a text JSON.parse refused or that is too deep: where and what, from scanJson. */
function notJson(text: string, path: string): UserError {
  const problem = scanJson(text);
  if (!problem) return new UserError(`${path} is not valid JSON`, { file: path });
  const at = position(text, problem.offset);
  return new UserError(`${path} is not valid JSON at line ${at.line}, column ${at.column}: ${problem.problem}`, {
    file: path,
    ...at,
  });
}

/** Parses and checks metadata JSON (a leading byte order mark allowed). */
export function parseMetadataText(source: string, path: string, progress?: (message: string) => void): MetadataFile {
  const text = source.replace(/^\uFEFF/, '');
  if (progress && text.length >= LARGE_FILE_CHARS) {
    progress(`reading ${path} (${Math.round(text.length / 1_000_000)} MB of JSON)…`);
  }
  // Up to SCAN_FIRST_CHARS, JSON.parse first (native, and iterative in V8: no depth overflows it) and the
  // character scan, several times slower, only when the text is not JSON or too deep, to say where. Past it,
  // the scan first: a deeply nested text costs JSON.parse about 30 bytes of heap per character (20 MB of
  // `[` took 580 MB), and a pull request's file must get its one-line error, not run the job out of memory.
  if (text.length > SCAN_FIRST_CHARS && scanJson(text)) throw notJson(text, path);
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    throw notJson(text, path);
  }
  if (exceedsDepth(doc, MAX_JSON_DEPTH)) throw notJson(text, path);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(`${path} is not a DHIS2 metadata document (expected a JSON object of collections)`, {
      file: path,
      line: 1,
    });
  }
  checkCollections(text, path, doc as Record<string, unknown>);
  return { path, text, doc: doc as MetadataDocument };
}

/**
 * Every top-level key (but the export's headers) is a collection: an array of objects, each with a string
 * `id`, no id twice in one collection. Otherwise the import would be refused or, worse, half understood.
 */
function checkCollections(text: string, path: string, doc: Record<string, unknown>): void {
  const fail = (message: string, at: PathKey[]): never => {
    const where = locatePath(text, at);
    throw new UserError(`${path}${where.line ? ` line ${where.line}` : ''}: ${message}`, { file: path, ...where });
  };
  const label = (key: string) => JSON.stringify(key);
  for (const [key, value] of Object.entries(doc)) {
    if (HEADER_KEYS.has(key)) continue;
    if (!Array.isArray(value)) fail(`${label(key)} is not a list (a DHIS2 collection is an array of objects)`, [key]);
    const seen = new Set<string>();
    (value as unknown[]).forEach((item, index) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        fail(`${label(key)}[${index}] is not an object`, [key, index]);
      }
      const id = (item as { id?: unknown }).id;
      if (typeof id !== 'string' || id === '') fail(`${label(key)}[${index}] has no "id"`, [key, index]);
      if (seen.has(id as string)) fail(`${label(key)} holds id ${JSON.stringify(id)} twice`, [key, index]);
      seen.add(id as string);
    });
  }
}

/** Line and column of the node at `at` (keys and indexes), found with the yaml parser's source ranges. */
function locatePath(text: string, at: PathKey[]): SourceLocation {
  const lines = new LineCounter();
  const d = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false });
  let node: unknown = d.contents;
  for (const key of at) {
    if (isMap(node)) node = node.get(key, true);
    else if (isSeq(node)) node = node.get(key as number, true);
    else break;
  }
  const range = (node as Node | undefined)?.range;
  if (!range) return {};
  const pos = lines.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

type PathKey = string | number;

/** The path of the object defining `uid` (not a bare `{id}` reference), depth first, top-level first. */
function definitionPath(doc: unknown, uid: string): PathKey[] | undefined {
  let reference: PathKey[] | undefined;
  const walk = (value: unknown, path: PathKey[]): PathKey[] | undefined => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const found = walk(value[i], [...path, i]);
        if (found) return found;
      }
      return undefined;
    }
    if (value === null || typeof value !== 'object') return undefined;
    const obj = value as Record<string, unknown>;
    if (obj.id === uid) {
      if (Object.keys(obj).length > 1) return path;
      reference ??= path;
    }
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'object' && v !== null) {
        const found = walk(v, [...path, k]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(doc, []) ?? reference;
}

/** What in an object an error is about: the ids it refers to that are wrong, the field it names. */
export interface ErrorTarget {
  /** Ids the error names (a missing reference's): the line of such a reference inside the object wins. */
  references?: readonly string[];
  /** The field (DHIS2's errorProperty, E5002's association): the line of that key inside the object. */
  property?: string;
}

/** The path, inside `value`, of the first `{id: X}` reference with X in `ids`, preferring one under `property`. */
function referencePath(value: unknown, ids: ReadonlySet<string>, property?: string): PathKey[] | undefined {
  let any: PathKey[] | undefined;
  const walk = (v: unknown, path: PathKey[]): PathKey[] | undefined => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], [...path, i]);
        if (found) return found;
      }
      return undefined;
    }
    if (v === null || typeof v !== 'object') return undefined;
    const obj = v as Record<string, unknown>;
    if (path.length > 0 && typeof obj.id === 'string' && ids.has(obj.id)) {
      const at = [...path, 'id'];
      if (property === undefined || path.includes(property)) return at;
      any ??= at;
    }
    for (const [k, child] of Object.entries(obj)) {
      if (typeof child === 'object' && child !== null) {
        const found = walk(child, [...path, k]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(value, []) ?? any;
}

/** The path of the key `property` inside `value` (its own keys first, then embedded objects'), or undefined. */
function propertyPath(value: unknown, property: string): PathKey[] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (Object.hasOwn(value, property)) return [property];
  return undefined;
}

/**
 * Locates objects by uid in a metadata file, and inside an object the line an error is about (the wrong
 * reference, the field), so the annotation lands on the changed line GitHub shows in "Files changed"
 * rather than on the object's opening brace, often outside the diff. Parsing with positions is costly on a
 * large file, so it happens once, and only when there is something to annotate.
 */
export class ObjectLocator {
  private parsed?: { root: Node | null; lines: LineCounter };

  constructor(private readonly file: MetadataFile) {}

  locate(uid: string | undefined, target: ErrorTarget = {}): SourceLocation {
    if (this.file.inRepo === false) return {};
    const where: SourceLocation = { file: this.file.path };
    const path = uid ? definitionPath(this.file.doc, uid) : undefined;
    if (!path) return where;
    const object = valueAt(this.file.doc, path);
    const ids = new Set((target.references ?? []).filter((id) => id !== uid));
    const inner =
      (ids.size > 0 ? referencePath(object, ids, target.property) : undefined) ??
      (target.property ? propertyPath(object, target.property) : undefined);
    return this.position([...path, ...(inner ?? [])], inner !== undefined) ?? this.position(path, false) ?? where;
  }

  /** Line and column of the node at `path`; of its key when `key` (the line of `"key": value`). */
  private position(path: PathKey[], key: boolean): SourceLocation | undefined {
    this.parsed ??= (() => {
      const lines = new LineCounter();
      // JSON is YAML 1.2: the yaml parser gives every node's and every key's source range.
      const d = parseDocument(this.file.text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false });
      return { root: d.contents as Node | null, lines };
    })();
    let node: unknown = this.parsed.root;
    let keyNode: Node | undefined;
    for (const step of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === step);
        if (!pair) return undefined;
        keyNode = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node)) {
        node = node.get(step as number, true);
      } else return undefined;
    }
    const range = (key && keyNode ? keyNode : (node as Node | undefined))?.range;
    if (!range) return undefined;
    const pos = this.parsed.lines.linePos(range[0]);
    return { file: this.file.path, line: pos.line, column: pos.col };
  }
}

function valueAt(doc: unknown, path: PathKey[]): unknown {
  let v = doc;
  for (const step of path) v = (v as Record<string | number, unknown> | undefined)?.[step];
  return v;
}
