/**
 * YAML parsing that keeps every value's position, so that each config problem (a YAML syntax error or a
 * schema violation found later) can be reported at its line and column.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
import { ConfigError, type SourceLocation } from '../errors.ts';

/** A step into a parsed value: a mapping key or a list index. */
export type PathSegment = string | number;

export interface Position {
  /** 0-based offset in the text, for ordering problems by where they are. */
  offset: number;
  /** 0-based offset just past the node (for a mapping or list: past its last item). */
  end: number;
  location: SourceLocation;
}

/** A parsed YAML file: its plain value, and the document it came from to locate any part of it. */
export class YamlSource {
  private constructor(
    /** The path used in messages and annotations. */
    readonly file: string,
    /** The plain JavaScript value; null for an empty document. */
    readonly value: unknown,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses one YAML document; any syntax problem is a ConfigError at its position. */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    // prettyErrors off: messages stay one line (no code frame); positions come from the LineCounter.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const source = new YamlSource(file, null, doc, lines);

    // Warnings (an unknown `!tag`, a bad directive) would otherwise change values silently.
    const problems = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0]);
    const first = problems[0];
    if (first) throw source.yamlError(first, text);

    source.checkStructure();
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // e.g. too many aliases (a "billion laughs" document).
      throw new ConfigError(`invalid YAML: ${e instanceof Error ? e.message : String(e)}`, { file });
    }
    return new YamlSource(file, value ?? null, doc, lines);
  }

  /**
   * Where the value at `path` is: its key (`at: 'key'`) or its value. Falls back to the key when the
   * value is empty (`sharing:` with nothing after it), and to the deepest existing parent when the path
   * does not exist.
   */
  locate(path: readonly PathSegment[], at: 'key' | 'value' = 'value'): Position {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const segment of path) {
      const parent = this.deref(node);
      let next: { node: unknown; key?: Node } | undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => keyText(p.key) === String(segment));
        if (pair) next = { node: pair.value, key: pair.key as Node };
      } else if (isSeq(parent)) {
        const item = parent.items[Number(segment)];
        if (item !== undefined) next = { node: item };
      }
      if (!next) break;
      node = next.node;
      keyNode = next.key;
    }
    const valueNode = this.deref(node);
    const range =
      at === 'key' && keyNode?.range
        ? keyNode.range
        : valueNode?.range && valueNode.range[1] > valueNode.range[0]
          ? valueNode.range
          : (keyNode?.range ?? valueNode?.range);
    return this.position(range?.[0] ?? 0, range?.[1] ?? 0);
  }

  private position(offset: number, end: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { offset, end, location: { file: this.file, line, column: col } };
  }

  private deref(node: unknown): Node | undefined {
    if (isAlias(node)) return node.resolve(this.doc) ?? node;
    return isScalar(node) || isMap(node) || isSeq(node) ? node : undefined;
  }

  /** Problems the parser accepts but a config cannot have: list/mapping keys, dangling aliases. */
  private checkStructure(): void {
    let problem: { message: string; offset: number } | undefined;
    visit(this.doc, {
      Pair: (_, pair) => {
        if (pair.key !== null && !isScalar(pair.key)) {
          problem = {
            message: 'invalid YAML: a key must be a plain name, not a list or mapping',
            offset: offsetOf(pair.key),
          };
          return visit.BREAK;
        }
        return undefined;
      },
      Alias: (_, alias) => {
        if (!alias.resolve(this.doc)) {
          problem = {
            message: `invalid YAML: alias *${alias.source} has no matching &${alias.source} before it`,
            offset: offsetOf(alias),
          };
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (problem) throw new ConfigError(problem.message, this.position(problem.offset, problem.offset).location);
  }

  private yamlError(error: YAMLError, text: string): ConfigError {
    let offset = error.pos[0];
    let message = `invalid YAML: ${error.message}`;
    if (error.code === 'DUPLICATE_KEY') {
      // The parser's position can sit on the line break before the key; point at the key itself.
      const duplicate = this.findDuplicateKey(offset);
      if (duplicate) offset = duplicate.offset;
      const name = duplicate?.name ?? text.slice(error.pos[0], error.pos[1]).trim();
      message = `duplicate key ${JSON.stringify(name)} (a key may appear only once in a mapping)`;
    } else if (error.code === 'MULTIPLE_DOCS') {
      message = 'invalid YAML: the file holds more than one document (a "---" line starts a new one)';
    }
    return new ConfigError(message, this.position(offset, offset).location);
  }

  /** The first key at or after `from` that repeats an earlier key of the same mapping. */
  private findDuplicateKey(from: number): { name: string; offset: number } | undefined {
    let found: { name: string; offset: number } | undefined;
    visit(this.doc, {
      Map: (_, map) => {
        const seen = new Set<string>();
        for (const pair of map.items) {
          const name = keyText(pair.key);
          if (name === undefined) continue;
          const offset = offsetOf(pair.key);
          if (seen.has(name) && offset >= from && (!found || offset < found.offset)) found = { name, offset };
          seen.add(name);
        }
      },
    });
    return found;
  }
}

/** A key as `toJS` names it in the plain value. */
function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function offsetOf(node: unknown): number {
  return (node as Node | null)?.range?.[0] ?? 0;
}
