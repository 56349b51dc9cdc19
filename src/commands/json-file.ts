/**
 * Reading a program's metadata file from the workspace, and finding where an object sits in it, so that
 * import errors are annotated on the line of the offending object (visible in the PR's diff view).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.ts';
import type { MetadataDocument } from '../metadata/types.ts';

export interface MetadataFile {
  /** Workspace-relative path (or, for an in-server backup, what it is), for messages and annotations. */
  path: string;
  /** False for metadata that is not a file of the repo (an in-server backup): nothing to annotate. */
  inRepo?: boolean;
  text: string;
  doc: MetadataDocument;
}

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

export function readMetadataFile(workspace: string, path: string, hint: string): MetadataFile {
  const abs = resolve(workspace, path);
  if (!existsSync(abs)) throw new UserError(`${path} not found in the workspace (${hint})`, { file: path });
  const text = readFileSync(abs, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8 says "... in JSON at position N" (Node 20) or "(line L column C)" (Node 22+).
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? position(text, Number(at[1])) : undefined;
    const lc = /line (\d+) column (\d+)/.exec(message);
    const loc = where ?? (lc ? { line: Number(lc[1]), column: Number(lc[2]) } : undefined);
    throw new UserError(`${path} is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, {
      file: path,
      ...loc,
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(`${path} is not a DHIS2 metadata document (expected a JSON object of collections)`, {
      file: path,
      line: 1,
    });
  }
  return { path, text, doc: doc as MetadataDocument };
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

/**
 * Locates objects by uid in a metadata file. Parsing with positions is costly on a large file, so it
 * happens once, and only when there is something to annotate.
 */
export class ObjectLocator {
  private parsed?: { root: Node | null; lines: LineCounter };

  constructor(private readonly file: MetadataFile) {}

  locate(uid: string | undefined): SourceLocation {
    if (this.file.inRepo === false) return {};
    const where: SourceLocation = { file: this.file.path };
    const path = uid ? definitionPath(this.file.doc, uid) : undefined;
    if (!path) return where;
    this.parsed ??= (() => {
      const lines = new LineCounter();
      // JSON is YAML 1.2: the yaml parser gives every node's source range.
      const d = parseDocument(this.file.text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false });
      return { root: d.contents as Node | null, lines };
    })();
    let node: unknown = this.parsed.root;
    for (const key of path) {
      if (isMap(node)) node = node.get(key, true);
      else if (isSeq(node)) node = node.get(key as number, true);
      else break;
    }
    const range = (node as Node | undefined)?.range;
    if (!range) return where;
    const pos = this.parsed.lines.linePos(range[0]);
    return { file: this.file.path, line: pos.line, column: pos.col };
  }
}
