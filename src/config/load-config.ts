/**
 * Reads the config file (dhis2-metadata.yml): YAML, checked against schema/config.schema.json, then the
 * checks a schema cannot express (unique program ids, one file per program), then defaults. Every
 * problem is a ConfigError that points at its line and column.
 */
import { basename, dirname, isAbsolute, posix, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { PathRefusedError, readTextInside, workspaceBoundary, type Boundary } from '../util/paths.ts';
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
 * workspace): it names the file in messages and annotations. Read as the metadata files are
 * (src/util/paths.ts readTextInside): real paths checked, and only a regular file, so a FIFO or a device
 * (`/dev/zero`, or a link to it) is refused in one line instead of hanging the run or filling its memory.
 */
export function loadConfigFile(absPath: string, displayPath: string): Config {
  const { boundary, path } = configBoundary(absPath, displayPath);
  let text: string | undefined;
  try {
    text = readTextInside(boundary, path, 'config file');
  } catch (e) {
    if (!(e instanceof PathRefusedError)) throw e;
    // Named as the user gave it, unquoted, like the other config messages.
    const message = e.message.replace(`config file ${JSON.stringify(path)}`, `config file ${displayPath}`);
    throw new ConfigError(`${message} (set the \`config\` input)`);
  }
  if (text === undefined) {
    throw new ConfigError(`config file ${displayPath} not found in the workspace (set the \`config\` input)`);
  }
  return loadConfigText(text, displayPath);
}

/**
 * The folder the config is read in, and its path there: the workspace when `displayPath` is the config's
 * path relative to it (how src/config/inputs.ts calls this), else the config's own folder.
 */
function configBoundary(absPath: string, displayPath: string): { boundary: Boundary; path: string } {
  const parts = displayPath.split(/[\\/]+/).filter(Boolean);
  if (!isAbsolute(displayPath) && parts.length > 0 && !parts.includes('..') && !parts.includes('.')) {
    const root = resolve(absPath, ...parts.map(() => '..'));
    if (resolve(root, displayPath) === resolve(absPath))
      return { boundary: workspaceBoundary(root), path: displayPath };
  }
  return { boundary: { root: dirname(absPath), name: "the config file's folder" }, path: basename(absPath) };
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
