/**
 * Reads the config file (dhis2-metadata.yml): YAML, checked against schema/config.schema.json, then the
 * checks a schema cannot express (unique program ids, one file per program), then defaults. Every
 * problem is a ConfigError that points at its line and column.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { ConfigError } from '../errors.ts';
import { RESTORE_ELEMENTS } from './types.ts';
import type {
  Config,
  KeepOrOverwrite,
  ProgramEntry,
  Removals,
  RestoreElement,
  RestorePayload,
  Target,
} from './types.ts';
import { describeValue, validateAgainstSchema } from './schema.ts';
import { YamlSource } from './yaml-errors.ts';

/** The config as the schema guarantees it, before defaults. */
interface RawConfig {
  target: Target;
  programs: { id: string; file?: string }[];
  objects?: string[];
  remove?: Partial<Removals>;
  attributes?: Record<string, string[]>;
  restore?: {
    elements?: RestoreElement[];
    organisationUnits?: KeepOrOverwrite;
    sharing?: KeepOrOverwrite;
    payload?: RestorePayload;
  };
  tests?: string[];
}

/**
 * Reads and validates the config file. `displayPath` is the path as the user gave it (relative to the
 * workspace): it names the file in messages and annotations.
 */
export function loadConfigFile(absPath: string, displayPath: string): Config {
  let text: string;
  try {
    text = readFileSync(absPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ConfigError(`config file ${displayPath} not found in the workspace (set the \`config\` input)`);
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`config file ${displayPath} is a folder, not a file (set the \`config\` input)`);
    }
    throw new ConfigError(`cannot read config file ${displayPath} (${code ?? (e as Error).message})`);
  }
  return loadConfigText(text, displayPath);
}

/** Parses and validates config text; `path` names the file in messages and annotations. */
export function loadConfigText(text: string, path: string): Config {
  const source = YamlSource.parse(text, path);
  if (source.value === null) {
    throw new ConfigError('the config is empty (it needs at least a target and a list of programs)', {
      file: path,
      line: 1,
      column: 1,
    });
  }
  validateAgainstSchema(source, 'config');
  const raw = source.value as RawConfig;

  const programs = raw.programs.map((p, i): ProgramEntry => {
    // Normalized so that `./metadata/a.json` and `metadata/a.json` are the same file in outputs.
    const file = p.file === undefined ? `metadata/${p.id}.json` : posix.normalize(p.file);
    return { id: p.id, file, line: source.locate(['programs', i]).location.line };
  });
  checkUnique(source, raw, programs);

  const restore = raw.restore ?? {};
  // Kept in the tree's order, whatever order the user listed them in: the restore walks it that way.
  const elements = restore.elements
    ? RESTORE_ELEMENTS.filter((e) => restore.elements?.includes(e))
    : [...RESTORE_ELEMENTS];

  const config: Config = {
    path,
    target: raw.target,
    programs,
    remove: { ...raw.remove },
    attributes: Object.fromEntries(Object.entries(raw.attributes ?? {}).map(([k, v]) => [k, [...v]])),
    restore: {
      elements,
      organisationUnits: restore.organisationUnits ?? 'keep',
      sharing: restore.sharing ?? 'keep',
      payload: restore.payload ?? 'changed',
    },
  };
  if (raw.objects) config.objects = [...raw.objects];
  if (raw.tests) config.tests = raw.tests.map((t) => posix.normalize(t));
  return config;
}

/** One entry per program, one program per file (two programs writing one file would overwrite each other). */
function checkUnique(source: YamlSource, raw: RawConfig, programs: ProgramEntry[]): void {
  const ids = new Map<string, number>();
  // Case-insensitive: on macOS and Windows checkouts `A.json` and `a.json` are the same file.
  const files = new Map<string, number>();
  programs.forEach((program, i) => {
    const sameId = ids.get(program.id);
    if (sameId !== undefined) {
      throw new ConfigError(
        `programs[${i}].id ${describeValue(program.id)} is listed twice (also at programs[${sameId}])`,
        source.locate(['programs', i, 'id']).location,
      );
    }
    ids.set(program.id, i);

    const fileKey = program.file.toLowerCase();
    const sameFile = files.get(fileKey);
    if (sameFile !== undefined) {
      const written = raw.programs[i]?.file !== undefined;
      throw new ConfigError(
        `programs[${i}] would write ${describeValue(program.file)}, which programs[${sameFile}] already uses ` +
          '(give each program its own file)',
        source.locate(written ? ['programs', i, 'file'] : ['programs', i]).location,
      );
    }
    files.set(fileKey, i);
  });
}
