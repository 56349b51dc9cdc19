/**
 * The built-in presets (presets/*.yml): what each `target` removes for each kind of program, as the
 * Program Config App's "Target Server" choice does. Their text comes from src/config/presets.generated.ts
 * (written by scripts/build-presets.mjs, so no .yml loader is needed at run time) and is checked against
 * schema/preset.schema.json by the same machinery as the config; a broken preset is a bug in this tool.
 */
import type { SourceLocation } from '../errors.ts';
import { ConfigError } from '../errors.ts';
import { PRESET_FILES } from './presets.generated.ts';
import { validateAgainstSchema } from './schema.ts';
import { REMOVAL_GROUPS, TARGETS } from './types.ts';
import type { Config, Preset, ProgramKind, Removals, ResolvedTransform, Target } from './types.ts';
import { YamlSource } from './yaml-errors.ts';
import { keyTable } from '../util/own-keys.ts';

const PROGRAM_KINDS: readonly ProgramKind[] = ['tracker', 'hnqis2'];

/** The order allPresets() lists the presets in. */
const PRESET_ORDER = [
  'tracker-current-server',
  'tracker-another-server',
  'hnqis2-current-server',
  'hnqis2-another-server',
  'hnqis2-enabled-server',
] as const;

/** The bundled preset files by name, in the order allPresets() lists them (allPresets() checks none is missing; a test runs it). */
export const PRESET_TEXTS: Readonly<Record<string, string>> = keyTable(
  Object.fromEntries(
    PRESET_ORDER.filter((name) => PRESET_FILES[name] !== undefined).map((name) => [name, PRESET_FILES[name] as string]),
  ),
);

/** The preset file name for a kind and target: `tracker-another-server`, but `hnqis2-enabled-server`. */
export function presetName(kind: ProgramKind, target: Target): string {
  return target.startsWith(`${kind}-`) ? target : `${kind}-${target}`;
}

/** Which targets apply to which kinds: the HNQIS-enabled target is offered only for HNQIS2 programs. */
export function targetApplies(kind: ProgramKind, target: Target): boolean {
  return target !== 'hnqis2-enabled-server' || kind === 'hnqis2';
}

/** Parses and checks one preset file; any problem throws a plain Error (it is a bug, not user input). */
export function parsePreset(text: string, name: string): Preset {
  const file = `presets/${name}.yml`;
  let preset: Preset;
  try {
    const source = YamlSource.parse(text, file);
    validateAgainstSchema(source, 'preset');
    preset = source.value as Preset;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const { line, column } = e.location;
    throw new Error(`built-in preset ${file}:${line ?? '?'}:${column ?? '?'} is invalid: ${e.message}`);
  }
  const expected = presetName(preset.kind, preset.target);
  if (preset.name !== name || expected !== name) {
    throw new Error(`built-in preset ${file} is named ${preset.name} for ${preset.kind}/${preset.target}`);
  }
  if (!targetApplies(preset.kind, preset.target)) {
    throw new Error(`built-in preset ${file}: target ${preset.target} does not apply to ${preset.kind} programs`);
  }
  if ((preset.hnqis !== undefined) !== (preset.target === 'hnqis2-enabled-server')) {
    throw new Error(`built-in preset ${file}: the hnqis routine belongs to hnqis2-enabled-server only`);
  }
  return preset;
}

const parsed = new Map<string, Preset>();

/**
 * One built-in preset, parsed (YAML and its schema) the first time it is asked for: a run uses one or two of
 * the eight, and parsing them all cost every run about 10 ms.
 */
function loadPreset(name: string): Preset | undefined {
  let preset = parsed.get(name);
  const text = PRESET_TEXTS[name];
  if (!preset && text !== undefined) {
    preset = parsePreset(text, name);
    parsed.set(name, preset);
  }
  return preset;
}

/** Every built-in preset; checks that every target has one for every kind it applies to. */
function loadPresets(): Map<string, Preset> {
  const presets = new Map<string, Preset>();
  for (const name of Object.keys(PRESET_TEXTS)) presets.set(name, loadPreset(name) as Preset);
  for (const kind of PROGRAM_KINDS) {
    for (const target of TARGETS) {
      if (targetApplies(kind, target) && !presets.has(presetName(kind, target))) {
        throw new Error(`no built-in preset for ${kind} programs with target ${target}`);
      }
    }
  }
  return presets;
}

export interface PresetContext {
  /** The program the preset is for, to name it in the error. */
  programId?: string;
  /** Where in the config to point the error (the program's entry). */
  location?: SourceLocation;
}

/**
 * The built-in preset for a kind of program and a target (a copy: callers may change it).
 * `hnqis2-enabled-server` on a tracker program is a ConfigError, as the reference app offers that
 * target only for HNQIS2/HNQIS3 programs.
 */
export function getPreset(kind: ProgramKind, target: Target, context: PresetContext = {}): Preset {
  if (!targetApplies(kind, target)) {
    const program = context.programId
      ? `program ${context.programId} is a tracker program`
      : 'this is a tracker program';
    throw new ConfigError(
      `target ${target} only applies to HNQIS2 programs; ${program} (no PROGRAM_TYPE HNQIS2/HNQIS3 attribute)`,
      context.location,
    );
  }
  const preset = loadPreset(presetName(kind, target));
  if (!preset) throw new Error(`no built-in preset for ${kind} programs with target ${target}`);
  return structuredClone(preset);
}

/** Every built-in preset (copies). */
export function allPresets(): Preset[] {
  return [...loadPresets().values()].map((p) => structuredClone(p));
}

/**
 * Everything export applies to one program once its kind is known: the preset's removals with the
 * config's `remove:` overrides on top, the config's objects and attributes, the preset's dropped
 * objects and HNQIS routine. A key the config's `objects:` lists explicitly is not dropped: as in the
 * reference app, where a preset only pre-selects and the user's own choice wins.
 */
export function resolveTransform(config: Config, kind: ProgramKind, programId: string): ResolvedTransform {
  const entry = config.programs.find((p) => p.id === programId);
  const location: SourceLocation =
    entry?.line !== undefined ? { file: config.path, line: entry.line } : { file: config.path };
  const preset = getPreset(kind, config.target, { programId, location });

  const removals = Object.fromEntries(
    REMOVAL_GROUPS.map((group) => [group, config.remove[group] ?? preset.remove[group]]),
  ) as Removals;
  const objects = config.objects ? [...config.objects] : undefined;
  const dropObjects = preset.dropObjects.filter((key) => !objects?.includes(key));
  const attributes = Object.fromEntries(Object.entries(config.attributes).map(([k, v]) => [k, [...v]]));

  const resolved: ResolvedTransform = { preset, removals, dropObjects, attributes };
  if (objects) resolved.objects = objects;
  if (preset.hnqis) resolved.hnqis = structuredClone(preset.hnqis);
  return resolved;
}
