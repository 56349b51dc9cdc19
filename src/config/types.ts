/**
 * The typed shapes of the config file, the built-in presets and the settings object. These are the
 * contract between the edge (inputs, config loading) and the rest of the code.
 */

export const COMMANDS = ['export', 'dry-run', 'restore', 'backup', 'list-backups', 'download-backup', 'check'] as const;
export type Command = (typeof COMMANDS)[number];

export const TARGETS = ['current-server', 'another-server', 'hnqis2-enabled-server'] as const;
export type Target = (typeof TARGETS)[number];

export type ProgramKind = 'tracker' | 'hnqis2';

/** The reference app's removal checkboxes, by the names the config uses. */
export const REMOVAL_GROUPS = [
  'sharing',
  'organisationUnits',
  'userFields',
  'dates',
  'categories',
  'legendSets',
] as const;
export type RemovalGroup = (typeof REMOVAL_GROUPS)[number];
export type Removals = Record<RemovalGroup, boolean>;

/** The reference app's restore tree (pca-reference.md, "Restore"). */
export const RESTORE_ELEMENTS = [
  'program',
  'options',
  'programIndicators',
  'trackedEntityTypes',
  'trackedEntityAttributes',
  'programTrackedEntityAttributes',
  'programStages',
  'programStageSections',
  'programStageDataElements',
  'dataElements',
] as const;
export type RestoreElement = (typeof RESTORE_ELEMENTS)[number];

export type KeepOrOverwrite = 'keep' | 'overwrite';

export interface ProgramEntry {
  /** DHIS2 program UID. */
  id: string;
  /** Where export writes and restore reads, relative to the workspace. Default `metadata/<id>.json`. */
  file: string;
  /** 1-based line of this entry in the config file, for annotations. */
  line?: number;
}

/** changed: import only new and changed objects; all: the whole program (the Program Config App's re-import). */
export type RestorePayload = 'changed' | 'all';

export interface RestoreOptions {
  elements: RestoreElement[];
  organisationUnits: KeepOrOverwrite;
  sharing: KeepOrOverwrite;
  payload: RestorePayload;
}

/** The config file, validated, with defaults applied. */
export interface Config {
  /** The config path as the user gave it (relative to the workspace), for messages and annotations. */
  path: string;
  target: Target;
  programs: ProgramEntry[];
  /** Keep only these top-level keys; undefined = keep all. */
  objects?: string[];
  /** Overrides of the target preset's removals (only the keys the user wrote). */
  remove: Partial<Removals>;
  /** JSON attributes to drop, per top-level key. */
  attributes: Record<string, string[]>;
  restore: RestoreOptions;
  /** Program rule test files or folders (the `tests:` key); undefined: `rule-tests/` when it exists. */
  tests?: string[];
}

/** A built-in preset (presets/<kind>-<target>.yml). */
export interface Preset {
  /** File name without extension, e.g. `tracker-another-server`. */
  name: string;
  kind: ProgramKind;
  target: Target;
  description: string;
  remove: Removals;
  /** Top-level keys the preset deselects (e.g. `system`). */
  dropObjects: string[];
  /** The reference app's HNQIS routine, only in `hnqis2-enabled-server`. */
  hnqis?: {
    /** Attribute UIDs kept in the top-level `attributes` and in `dataElements[].attributeValues`. */
    keepAttributes: string[];
  };
}

/** Everything export applies to one program, once its kind is known. */
export interface ResolvedTransform {
  preset: Preset;
  /** Preset removals with the config's `remove:` overrides applied. */
  removals: Removals;
  objects?: string[];
  dropObjects: string[];
  attributes: Record<string, string[]>;
  hnqis?: Preset['hnqis'];
}

export type Auth = { kind: 'basic'; username: string; password: string } | { kind: 'token'; token: string };

export interface GitHubContext {
  eventName?: string;
  eventPath?: string;
  apiUrl: string;
  serverUrl: string;
  repository?: string;
  sha?: string;
  runId?: string;
  /** Who started the run (GITHUB_ACTOR). */
  actor?: string;
  /** Present inside a runner: artifact upload needs it. */
  runtimeToken?: string;
  summaryPath?: string;
}

/** A metadata file given by the `file` input: `path` relative to `root`, read only through that boundary. */
export interface SourceFile {
  path: string;
  /** For messages: relative to the workspace, or the absolute path of a rollback point. */
  shown: string;
  root: string;
  /** For messages: "the workspace", "the rollback folder". */
  rootName: string;
  /** A file of the repository (annotations may point at it). */
  inRepo: boolean;
}

/** The one typed settings object. Built at the edge; nothing else reads inputs or the environment. */
export interface Settings {
  command: Command;
  /** Absolute path all relative paths resolve against. */
  workspace: string;
  config: Config;
  server: { url: string; auth?: Auth };
  /** Program UIDs to act on (the `programs` input), already checked against the config. */
  programs: ProgramEntry[];
  commit: boolean;
  /** export with `commit: pull-request`: the branch pushed to, the title and labels of its pull request. */
  pullRequest?: { branch: string; title?: string; labels: string[] };
  commitMessage?: string;
  githubToken?: string;
  comment: boolean;
  /** dry-run, restore: the server's name in the comment and summary (staging, production); not in the marker. */
  label?: string;
  /** restore: proceed when the payload differs from the reviewed dry run's fingerprint. */
  allowPlanChange: boolean;
  /** dry-run: why the server part cannot run (a fork's pull request gets no secrets); the checks still run. */
  serverUnavailable?: string;
  /** restore: how long to wait for the server's import job. */
  importTimeoutMs: number;
  backup: { name?: string; version?: string; comment?: string; id?: string };
  outputDir: string;
  /** check: write an example rule test file for this program uid instead of checking. */
  initTests?: string;
  /** check, dry-run: `new` fails only on the problems the change brings; `all` on every problem. */
  failOn: 'new' | 'all';
  /** dry-run: `fail` fails when the change affects data already collected on the server; `warn` only reports it. */
  dataImpact: DataImpactMode;
  /** check: the git revision "before the change" (else, on a pull_request event, its base commit). */
  baseline?: string;
  /** Folder for report files (absolute). */
  reportDir: string;
  /** dry-run, restore: the `file` input, read instead of the one program's file in the config. */
  sourceFile?: SourceFile;
  github: GitHubContext;
  /** Runs inside GitHub Actions (annotations, summary, artifacts). */
  inAction: boolean;
}

/** `data-impact`: what a dry run does when the change affects data already collected (interface.md). */
export const DATA_IMPACT_MODES = ['fail', 'warn'] as const;
export type DataImpactMode = (typeof DATA_IMPACT_MODES)[number];
