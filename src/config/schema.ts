/**
 * JSON Schema validation of the config and the built-in presets, with problems reported the way a
 * user reads them: the key path, what is wrong in plain words, and the line and column in the file.
 * The schemas themselves (schema/*.schema.json) are shipped for editors too, so they are the one place
 * the format is defined; this file adds only the wording.
 */
import { closest } from '../util/closest.ts';
import type { ErrorObject, ValidateFunction } from 'ajv';
import configSchema from '../../schema/config.schema.json' with { type: 'json' };
import presetSchema from '../../schema/preset.schema.json' with { type: 'json' };
import { ConfigError } from '../errors.ts';
import { METADATA_KEYS } from '../metadata/keys.ts';
// Precompiled by scripts/build-validators.mjs (ajv standalone code): no schema compilation at run time.
import * as precompiled from './validators.generated.js';
import type { PathSegment, Position, YamlSource } from './yaml-errors.ts';

export { configSchema, presetSchema };

export type SchemaName = 'config' | 'preset';

/** The validator of a schema, precompiled at build time with the options the messages need (allErrors, verbose). */
export function schemaValidator(name: SchemaName): ValidateFunction {
  return precompiled[name] as ValidateFunction;
}

const schemaText = new WeakMap<object, string>();
const textOf = (schema: object): string => {
  let text = schemaText.get(schema);
  if (text === undefined) schemaText.set(schema, (text = JSON.stringify(schema)));
  return text;
};

/**
 * Whether the error was raised by `schema` (e.g. configSchema.definitions.programId). Compared by content,
 * not identity: the precompiled validators carry their own copies of the schemas.
 */
function from(e: ErrorObject, schema: object): boolean {
  const parent = e.parentSchema as object | undefined;
  return parent !== undefined && (parent === schema || textOf(parent) === textOf(schema));
}

/** Throws a ConfigError for the first schema violation (by position in the file), if any. */
export function validateAgainstSchema(source: YamlSource, name: SchemaName): void {
  const validate = schemaValidator(name);
  if (validate(source.value)) return;
  const problems = (validate.errors ?? [])
    .filter((e) => e.keyword !== 'propertyNames' && e.keyword !== '$ref')
    .map((e, index) => ({ index, ...describeError(e, source, name) }));
  problems.sort((a, b) => a.sortOffset - b.sortOffset || a.rank - b.rank || a.index - b.index);
  const first = problems[0];
  if (!first) throw new ConfigError(`${subjectName(name)} is invalid`, { file: source.file });
  throw new ConfigError(first.message, first.position.location);
}

interface Described {
  message: string;
  position: Position;
  /** Problems are ordered by this offset; ties by rank (an unknown key first: it usually explains the rest). */
  sortOffset: number;
  rank: number;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
  number: 'a number',
  integer: 'a whole number',
  null: 'empty',
};

const UID_HINT = '11 letters and digits, starting with a letter';

function describeError(e: ErrorObject, source: YamlSource, name: SchemaName): Described {
  const path = pointerToPath(e.instancePath);
  const subject = formatPath(source.value, path) || subjectName(name);
  const at = (p: readonly PathSegment[], where: 'key' | 'value' = 'value') => source.locate(p, where);
  const result = (message: string, position = at(path), rank = 5): Described => ({
    message,
    position,
    sortOffset: position.offset,
    rank,
  });
  const params = e.params as Record<string, unknown>;
  const parent = e.parentSchema as { properties?: Record<string, unknown> } | undefined;

  // A key of `attributes:` that is no DHIS2 collection (ajv reports it as the key's enum failure).
  if (e.propertyName !== undefined && from(e, configSchema.definitions.metadataKey)) {
    return result(
      `unknown key ${JSON.stringify(e.propertyName)} in ${subject}: ${collectionHint(e.propertyName)}`,
      at([...path, e.propertyName], 'key'),
      0,
    );
  }

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowedKeys = Object.keys(parent?.properties ?? {});
      const where = path.length ? `in ${subject}` : 'at the top level';
      const near = closest(key, allowedKeys);
      const hint = near ? `did you mean ${JSON.stringify(near)}? ` : '';
      return result(
        `unknown key ${JSON.stringify(key)} ${where} (${hint}allowed: ${allowedKeys.join(', ')})`,
        at([...path, key], 'key'),
        0,
      );
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const position = at(path);
      // Something missing from a mapping is only known at its end: anything wrong inside comes first.
      return { message: missingMessage(subject, missing, e, name), position, sortOffset: position.end, rank: 9 };
    }
    case 'type': {
      if (from(e, configSchema.definitions.programId)) return result(uidMessage(subject, e.data));
      if (path.length === 0) {
        const keys = Object.keys((name === 'config' ? configSchema : presetSchema).properties)
          .slice(0, 2)
          .join(', ');
        return result(
          `${subject} must be a mapping of keys (${keys}, ...) at the top level (got ${describeValue(e.data)})`,
        );
      }
      const expected = String(params.type);
      const word = TYPE_WORDS[expected] ?? expected;
      if (from(e, configSchema.definitions.metadataFile) && e.data === null) {
        return result(`${subject} is empty (give a path ending in .json, or leave the key out for metadata/<id>.json)`);
      }
      // `key:` with nothing after it: the user most likely forgot the value.
      if (e.data === null) return result(`${subject} is empty (it must be ${word})`);
      return result(`${subject} must be ${word} (got ${describeValue(e.data)})`);
    }
    case 'enum': {
      if (from(e, configSchema.definitions.metadataKey)) {
        return result(`${subject} ${describeValue(e.data)}: ${collectionHint(String(e.data))}`, at(path), 4);
      }
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      // Ahead of the `type` error at the same place: the list of values says more than "must be text".
      return result(`${subject} must be one of: ${allowed} (got ${describeValue(e.data)})`, at(path), 4);
    }
    case 'pattern': {
      if (from(e, configSchema.definitions.programId) || isUidSchema(e.parentSchema)) {
        return result(uidMessage(subject, e.data));
      }
      if (from(e, configSchema.definitions.metadataFile)) return result(fileMessage(subject, String(e.data)));
      if (name === 'preset' && from(e, presetSchema.properties.name)) {
        return result(`${subject} ${describeValue(e.data)} must be <kind>-<target>, e.g. tracker-another-server`);
      }
      return result(`${subject} ${describeValue(e.data)} does not have the expected form (${String(params.pattern)})`);
    }
    case 'minItems':
      return result(
        path.length === 1 && path[0] === 'programs' && name === 'config'
          ? `${subject} is empty (list at least one program, each with its DHIS2 UID)`
          : `${subject} is empty (list at least one item, or leave the key out)`,
      );
    case 'uniqueItems': {
      // Which of i and j is the later one depends on ajv's algorithm for the item type.
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      const item = Array.isArray(e.data) ? (e.data as unknown[])[later] : undefined;
      return result(
        `${subject}[${later}] ${describeValue(item)} is listed twice (also at ${subject}[${earlier}])`,
        at([...path, later]),
      );
    }
    case 'minLength':
      return result(`${subject} must not be empty`);
    default:
      return result(`${subject} ${e.message ?? 'is invalid'}`);
  }
}

/** Why a name is no top-level key, with the nearest known one when it is close (a singular, a typo, a case slip). */
function collectionHint(name: string): string {
  const near = closest(name, METADATA_KEYS);
  return (
    'not a DHIS2 collection this tool knows' +
    (near
      ? ` (did you mean ${JSON.stringify(near)}?)`
      : ' (a top-level key of a metadata document, in the plural: programs, programStages, dataElements, optionSets, ...)')
  );
}

function missingMessage(subject: string, missing: string, e: ErrorObject, name: SchemaName): string {
  if (name === 'config') {
    if (from(e, configSchema.definitions.program) && missing === 'id') {
      return `${subject} has no id (each program needs its DHIS2 UID)`;
    }
    if (name === 'config' && from(e, configSchema) && missing === 'target') {
      return `the config has no target (set it to one of: ${configSchema.properties.target.enum.join(', ')})`;
    }
    if (name === 'config' && from(e, configSchema) && missing === 'programs') {
      return 'the config has no programs (list the programs to manage, each with its DHIS2 UID as id)';
    }
  }
  return `${subject} has no ${missing}`;
}

export function uidMessage(subject: string, value: unknown): string {
  if (value === null || value === undefined || value === '') {
    return `${subject} is empty (each program needs its DHIS2 UID: ${UID_HINT})`;
  }
  return `${subject} ${describeValue(value)} is not a DHIS2 UID (${UID_HINT})`;
}

function isUidSchema(schema: unknown): boolean {
  return (schema as { pattern?: unknown } | undefined)?.pattern === configSchema.definitions.programId.pattern;
}

/** Why a `file` fails the schema's pattern, most fundamental reason first. */
function fileMessage(subject: string, file: string): string {
  const shown = describeValue(file);
  if (file === '') return `${subject} must not be empty (a path such as metadata/program.json)`;
  if (/^([/\\]|[A-Za-z]:)/.test(file)) {
    return `${subject} ${shown} must be a path relative to the workspace, not an absolute path`;
  }
  if (file.includes('\\')) return `${subject} ${shown} must use forward slashes (/) between folders`;
  if (/(^|\/)\.\.(\/|$)/.test(file)) return `${subject} ${shown} must stay inside the workspace (no ".." in the path)`;
  if (!file.endsWith('.json')) return `${subject} ${shown} must end in .json (it holds a DHIS2 metadata document)`;
  return `${subject} ${shown} is not a valid path (relative to the workspace, with forward slashes, ending in .json)`;
}

function subjectName(name: SchemaName): string {
  return name === 'config' ? 'the config' : 'the preset';
}

/** A value as a message shows it: text quoted (and cut short), lists and mappings by kind. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** An ajv instance path (`/programs/1/id`) as segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Segments as the user would write them: `programs[1].id`, `attributes["odd key"]`. */
export function formatPath(root: unknown, path: readonly PathSegment[]): string {
  let out = '';
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current)) {
      out += `[${segment}]`;
      current = current[Number(segment)];
      continue;
    }
    const key = String(segment);
    out += /^[A-Za-z_$][\w$]*$/.test(key) ? `${out ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`;
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
  }
  return out;
}
