/**
 * Where a key of a metadata object sits in its JSON file, so that a problem is annotated on the line of the
 * offending key (the rule's `condition`, the action's `data`), not on the object's opening brace. One linear
 * scan of the text (a YAML parse with positions takes over a second on a 2.5 MB package; this takes a few ms),
 * done only when there is something to annotate.
 */
import type { SourceLocation } from '../errors.ts';

interface ObjectKeys {
  start: number;
  keys: Map<string, number>;
}

export class JsonKeyLocator {
  private index?: { objects: Map<string, ObjectKeys>; lineStarts: number[] };

  constructor(
    private readonly path: string,
    private readonly text: string,
  ) {}

  /** The location of `key` in the object defining `uid` (else the object, else just the file). */
  locate(uid: string | undefined, key?: string): SourceLocation {
    const index = (this.index ??= scan(this.text));
    const object = uid ? index.objects.get(uid) : undefined;
    if (!object) return { file: this.path };
    const offset = (key !== undefined ? object.keys.get(key) : undefined) ?? object.start;
    return { file: this.path, ...lineColumn(index.lineStarts, offset) };
  }
}

function lineColumn(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((lineStarts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
}

interface Frame {
  object: boolean;
  start: number;
  keys: Map<string, number>;
  id?: string;
  /** The key whose value comes next (objects only). */
  pendingKey?: string;
  expectKey: boolean;
}

/** An array's frame: arrays have no keys (never written to). */
const NO_KEYS: Map<string, number> = new Map();

/** Records, for every object with an `id` and other keys, the offsets of its keys. */
function scan(text: string): { objects: Map<string, ObjectKeys>; lineStarts: number[] } {
  const objects = new Map<string, ObjectKeys>();
  const lineStarts = [0];
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  // The end of the string whose opening quote is at i (the offset of its closing quote), noting its line
  // breaks; `escaped` says whether it holds a backslash.
  let escaped = false;
  const endOfString = (): number => {
    let j = i + 1;
    escaped = false;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 92 /* \ */) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c === 34 /* " */) break;
      if (c === 10) lineStarts.push(j + 1);
      j++;
    }
    return j;
  };
  // Skips a string without copying it: most strings are values nobody asks for.
  const skipString = (): void => {
    i = endOfString() + 1;
  };
  const readString = (): string => {
    const j = endOfString();
    const raw = text.slice(i, j + 1);
    i = j + 1;
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 10) {
      lineStarts.push(i + 1);
      i++;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      stack.push({ object: c === 123, start: i, keys: c === 123 ? new Map() : NO_KEYS, expectKey: c === 123 });
      i++;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      const frame = stack.pop();
      if (frame?.object && frame.id !== undefined && frame.keys.size > 1) {
        const seen = objects.get(frame.id);
        if (!seen || seen.start > frame.start) objects.set(frame.id, { start: frame.start, keys: frame.keys });
      }
      i++;
    } else if (c === 34 /* " */) {
      const start = i;
      if (!top?.object || (!top.expectKey && top.pendingKey !== 'id')) {
        skipString();
        continue;
      }
      const s = readString();
      if (top.expectKey) {
        top.keys.set(s, start);
        top.pendingKey = s;
        top.expectKey = false;
      } else {
        top.id = s;
      }
    } else if (c === 44 /* , */) {
      if (top?.object) {
        top.expectKey = true;
        top.pendingKey = undefined;
      }
      i++;
    } else {
      i++;
    }
  }
  return { objects, lineStarts };
}
