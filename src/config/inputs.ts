/**
 * The edge: the only place that reads action inputs, CLI flags and the environment. Everything is
 * turned into one typed Settings object (as actions/checkout does in its input-helper.ts); the rest of
 * the code receives Settings and never looks at process.env or core.getInput.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { normaliseServerUrl } from '../dhis2/server-url.ts';
import { forkWithoutSecretsMessage, readPullRequest } from '../github/event.ts';
import { checkedPath, resolveInside, workspaceBoundary } from '../util/paths.ts';
import { registerSecret } from '../util/secrets.ts';
import { FAIL_ON, type FailOn } from '../check/baseline.ts';
import { loadConfigFile } from './load-config.ts';
import {
  COMMANDS,
  DATA_IMPACT_MODES,
  type Auth,
  type DataImpactMode,
  type Command,
  type GitHubContext,
  type ProgramEntry,
  type Settings,
  type SourceFile,
} from './types.ts';

/** Every input of action.yml, in its order; the CLI has one --flag per input. */
export const INPUTS = [
  {
    name: 'command',
    description: 'export | dry-run | restore | backup | list-backups | download-backup | check',
  },
  { name: 'config', description: 'path of the YAML config, relative to the workspace', default: 'dhis2-metadata.yml' },
  { name: 'server-url', description: 'DHIS2 base URL without /api (a context path like https://host/dhis is fine)' },
  { name: 'username', description: 'DHIS2 username (Basic auth)' },
  { name: 'password', description: 'DHIS2 password (Basic auth)', secret: true },
  { name: 'token', description: 'DHIS2 personal access token (2.37+)', secret: true },
  { name: 'programs', description: 'program UIDs from the config to act on, comma or newline separated' },
  {
    name: 'commit',
    description:
      'export: true commits the changed files on the current branch and pushes; pull-request pushes them to pull-request-branch and opens (or updates, or closes) one pull request',
    default: 'false',
    boolean: true,
  },
  {
    name: 'pull-request-branch',
    description: 'export with commit: pull-request: the branch it pushes to',
    default: 'dhis2-metadata/export',
  },
  {
    name: 'pull-request-title',
    description: 'export with commit: pull-request: the title (default names the programs)',
  },
  { name: 'pull-request-labels', description: 'export with commit: pull-request: comma-separated labels' },
  { name: 'commit-message', description: 'export with commit: the commit message' },
  { name: 'github-token', description: 'token for the pull-request comment', secret: true },
  { name: 'comment', description: 'dry-run on a pull_request event: one PR comment', default: 'true', boolean: true },
  {
    name: 'label',
    description: 'dry-run, restore: a name for the server in the comment and summary, e.g. staging or production',
  },
  { name: 'backup-name', description: 'backup: the record name' },
  { name: 'backup-version', description: 'backup: the record version' },
  { name: 'backup-comment', description: 'backup: a comment stored with the record' },
  { name: 'backup-id', description: 'dry-run, restore, download-backup: use this in-server backup (id or name)' },
  {
    name: 'file',
    description:
      "dry-run, restore: use this metadata file instead of the program's file in the config (one program; in the workspace, or a rollback point)",
  },
  { name: 'output-dir', description: 'download-backup: folder to write into', default: '.' },
  {
    name: 'init-tests',
    description: 'check: write an example program rule test file for this program uid (rule-tests/<uid>.yml)',
  },
  {
    name: 'fail-on',
    description:
      'check, dry-run: new fails only on the invalid expressions and broken references the change brings (compared with the server, or the pull request base); all fails on every one',
    default: 'new',
  },
  {
    name: 'data-impact',
    description:
      'dry-run: fail fails when the change orphans or hides data already collected on the server (events, tracked entities); warn only reports it',
    default: 'fail',
  },
  {
    name: 'baseline',
    description:
      'check: the git commit or ref to compare with for fail-on: new (default on a pull_request event: its base commit)',
  },
  {
    name: 'allow-plan-change',
    description: 'restore: proceed even if the payload differs from the reviewed dry run',
    default: 'false',
    boolean: true,
  },
  {
    name: 'import-timeout',
    description:
      'restore: seconds to wait for the import job on the server (a job still queued after a tenth of it, at most 2 minutes, is cancelled)',
    default: '1800',
  },
] as const satisfies readonly {
  name: string;
  description: string;
  default?: string;
  secret?: boolean;
  boolean?: boolean;
}[];

export type InputName = (typeof INPUTS)[number]['name'];
export type RawInputs = Partial<Record<InputName, string>>;

/** What the edge knows about where it runs. */
export interface Environment {
  cwd: string;
  env: Record<string, string | undefined>;
}

export function environment(): Environment {
  return { cwd: process.cwd(), env: { ...process.env } };
}

/** DHIS2_* variables fill the credentials the CLI was not given on the command line. */
export function credentialsFromEnv(env: Record<string, string | undefined>): RawInputs {
  const raw: RawInputs = {};
  if (env.DHIS2_SERVER_URL) raw['server-url'] = env.DHIS2_SERVER_URL;
  if (env.DHIS2_USERNAME) raw.username = env.DHIS2_USERNAME;
  if (env.DHIS2_PASSWORD) raw.password = env.DHIS2_PASSWORD;
  if (env.DHIS2_TOKEN) raw.token = env.DHIS2_TOKEN;
  return raw;
}

function inputDefault(name: InputName): string | undefined {
  const spec = INPUTS.find((i) => i.name === name) as { default?: string } | undefined;
  return spec?.default;
}

function value(raw: RawInputs, name: InputName): string | undefined {
  const v = raw[name]?.trim();
  return v === undefined || v === '' ? inputDefault(name) : v;
}

function parseBoolean(raw: RawInputs, name: InputName): boolean {
  const v = value(raw, name) ?? 'false';
  // The YAML 1.2 core schema booleans, as core.getBooleanInput accepts them.
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  throw new ConfigError(`input ${name} must be true or false (got "${v}")`);
}

/** The base URL, normalised once for the whole run (src/dhis2/server-url.ts: no /api, no trailing slash). */
function parseServerUrl(v: string | undefined): string {
  if (!v) {
    throw new ConfigError(
      'input server-url is required: the DHIS2 base URL without /api, e.g. https://play.dhis2.org/dev (set server-url, or DHIS2_SERVER_URL for the CLI)',
    );
  }
  try {
    return normaliseServerUrl(v).base;
  } catch (e) {
    throw new ConfigError(`input ${(e as Error).message}`);
  }
}

function parseAuth(raw: RawInputs): Auth | undefined {
  const username = value(raw, 'username');
  const password = raw.password ?? '';
  const token = value(raw, 'token');
  if (token && (username || password)) {
    throw new ConfigError('give either token or username/password, not both');
  }
  if (token) return { kind: 'token', token };
  if (username && !password) throw new ConfigError(`input password is required with username "${username}"`);
  if (!username && password) throw new ConfigError('input username is required with password');
  if (username) return { kind: 'basic', username, password };
  return undefined;
}

/** The `label` input: one short line (it titles a comment; Markdown in it is made inert where it is shown). */
function parseLabel(raw: RawInputs): string | undefined {
  const label = value(raw, 'label');
  if (label === undefined) return undefined;
  if (/[\r\n]/.test(label) || label.length > 60) {
    throw new ConfigError('input label must be one line of at most 60 characters, e.g. staging or production');
  }
  return label;
}

/** Splits a comma/newline list, dropping blanks. */
export function parseList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function selectPrograms(all: ProgramEntry[], filter: string[], configPath: string): ProgramEntry[] {
  if (filter.length === 0) return all;
  const known = new Set(all.map((p) => p.id));
  const unknown = filter.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(
      `input programs names ${unknown.join(', ')}, not in ${configPath} (its programs: ${[...known].join(', ')})`,
    );
  }
  const wanted = new Set(filter);
  return all.filter((p) => wanted.has(p.id));
}

/** An input's file or folder, refused when it (or a link on the way) leaves the workspace (real paths). */
function insideWorkspace(workspace: string, path: string, input: string): string {
  try {
    checkedPath(workspaceBoundary(workspace), path, `input ${input}`);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  return resolve(workspace, path);
}

/** `fail-on`: new (the default) or all. */
function parseFailOn(raw: RawInputs): FailOn {
  const text = (value(raw, 'fail-on') ?? inputDefault('fail-on') ?? 'new').toLowerCase();
  if (!(FAIL_ON as readonly string[]).includes(text)) {
    throw new ConfigError(`input fail-on must be one of: ${FAIL_ON.join(', ')} (got "${value(raw, 'fail-on')}")`);
  }
  return text as FailOn;
}

/** `data-impact`: fail (the default) or warn. */
function parseDataImpact(raw: RawInputs): DataImpactMode {
  const text = (value(raw, 'data-impact') ?? inputDefault('data-impact') ?? 'fail').toLowerCase();
  if (!(DATA_IMPACT_MODES as readonly string[]).includes(text)) {
    throw new ConfigError(
      `input data-impact must be one of: ${DATA_IMPACT_MODES.join(', ')} (got "${value(raw, 'data-impact')}")`,
    );
  }
  return text as DataImpactMode;
}

/** `baseline`: a git revision; never an option (`--upload-pack=...`) or anything but a plain ref or sha. */
function parseBaseline(raw: RawInputs): string | undefined {
  const ref = value(raw, 'baseline');
  if (ref === undefined) return undefined;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]{0,199}$/.test(ref) || ref.includes('..')) {
    throw new ConfigError(
      `input baseline must be a git commit or ref such as origin/main or a commit sha (got "${ref}")`,
    );
  }
  return ref;
}

/** `commit`: true, false, or `pull-request` (then the pull request's branch, title and labels). */
function parseCommit(raw: RawInputs): Pick<Settings, 'commit' | 'pullRequest'> {
  const commit = value(raw, 'commit');
  if (commit !== 'pull-request') {
    if (!['true', 'True', 'TRUE', 'false', 'False', 'FALSE'].includes(commit ?? 'false')) {
      throw new ConfigError(`input commit must be true, false or pull-request (got "${commit}")`);
    }
    return { commit: parseBoolean(raw, 'commit') };
  }
  const branch = value(raw, 'pull-request-branch') ?? 'dhis2-metadata/export';
  // git check-ref-format's rules, the ones a name from a workflow can break; the push checks the rest.
  if (
    // eslint-disable-next-line no-control-regex -- control characters are what git refuses in a branch name
    /[\s~^:?*[\\\x00-\x1f\x7f]|\.\.|@\{|\/\/|^[-/.]|[/.]$|\.lock$|\.lock\/|\/\./.test(branch) ||
    branch === '@' ||
    branch.startsWith('refs/')
  ) {
    throw new ConfigError(`input pull-request-branch is not a valid branch name: "${branch}"`);
  }
  return {
    commit: false,
    pullRequest: {
      branch,
      title: value(raw, 'pull-request-title'),
      labels: parseList(raw['pull-request-labels']),
    },
  };
}

/** The folder of the rollback points restore saves, inside the report folder (src/report/rollback.ts). */
export const rollbackRoot = (reportDir: string): string => join(reportDir, 'rollback');

/**
 * The `file` input: one program's metadata from another file than the config's (dry-run and restore). A file
 * in the workspace (real paths checked, as every workspace file), or a rollback point restore saved in the
 * report folder (a private folder of this user: read through its own boundary, never anywhere else).
 */
function parseSourceFile(
  raw: RawInputs,
  context: { command: string; workspace: string; reportDir: string; programs: ProgramEntry[]; configPath: string },
): SourceFile | undefined {
  const file = value(raw, 'file');
  if (!file) return undefined;
  if (context.command !== 'dry-run' && context.command !== 'restore') {
    throw new ConfigError(`input file applies to dry-run and restore only (got command ${context.command})`);
  }
  if (value(raw, 'backup-id')) throw new ConfigError('give either file or backup-id, not both');
  if (context.programs.length !== 1) {
    throw new ConfigError(
      `input file replaces the file of one program: set programs to the one it holds (${context.configPath} has ${context.programs.map((p) => p.id).join(', ')})`,
    );
  }
  const inWorkspace = resolveInside(context.workspace, file);
  if (inWorkspace) {
    insideWorkspace(context.workspace, file, 'file');
    return {
      path: inWorkspace.rel,
      shown: inWorkspace.rel,
      root: context.workspace,
      rootName: 'the workspace',
      inRepo: true,
    };
  }
  const root = rollbackRoot(context.reportDir);
  const inRollback = resolveInside(root, resolve(context.workspace, file));
  if (inRollback && inRollback.rel !== '') {
    return { path: inRollback.rel, shown: inRollback.abs, root, rootName: 'the rollback folder', inRepo: false };
  }
  throw new ConfigError(
    `input file must be inside the workspace or a rollback point in ${root} (got ${JSON.stringify(file)})`,
  );
}

/** A whole number of seconds (at least 1), in milliseconds. */
function parseSeconds(raw: RawInputs, name: 'import-timeout'): number {
  const text = value(raw, name) ?? INPUTS.find((i) => i.name === name)?.default ?? '';
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new ConfigError(`input ${name} must be a whole number of seconds, at least 1 (got "${text}")`);
  }
  return Number(text) * 1000;
}

function githubContext(env: Record<string, string | undefined>): GitHubContext {
  return {
    eventName: env.GITHUB_EVENT_NAME,
    eventPath: env.GITHUB_EVENT_PATH,
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    repository: env.GITHUB_REPOSITORY,
    sha: env.GITHUB_SHA,
    runId: env.GITHUB_RUN_ID,
    actor: env.GITHUB_ACTOR,
    runtimeToken: env.ACTIONS_RUNTIME_TOKEN,
    summaryPath: env.GITHUB_STEP_SUMMARY,
  };
}

/**
 * Where reports and rollback points go (made private, 0700, when written: src/report/report-file.ts). In a
 * runner its per-job temp folder; on a workstation a per-user folder, never a shared predictable /tmp path:
 * $XDG_STATE_HOME/dhis2-metadata, else ~/.local/state/dhis2-metadata, else a per-user folder in the temp dir.
 */
export function defaultReportDir(env: Record<string, string | undefined>): string {
  if (env.RUNNER_TEMP) return join(env.RUNNER_TEMP, 'dhis2-metadata');
  if (env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)) return join(env.XDG_STATE_HOME, 'dhis2-metadata');
  const home = env.HOME || env.USERPROFILE;
  if (home && isAbsolute(home)) return join(home, '.local', 'state', 'dhis2-metadata');
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : (env.USERNAME ?? 'user');
  return join(tmpdir(), `dhis2-metadata-${user.replace(/[^A-Za-z0-9_-]/g, '_')}`);
}

/** Turns raw inputs into Settings, or throws a ConfigError naming the input or config key at fault. */
export function buildSettings(raw: RawInputs, environment: Environment): Settings {
  const { env, cwd } = environment;
  // Register secrets first: every later error message is redacted against them.
  for (const spec of INPUTS) if ('secret' in spec && spec.secret) registerSecret(raw[spec.name]);

  const command = value(raw, 'command');
  if (!command) throw new ConfigError(`input command is required (one of: ${COMMANDS.join(', ')})`);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new ConfigError(`input command must be one of: ${COMMANDS.join(', ')} (got "${command}")`);
  }

  const inAction = env.GITHUB_ACTIONS === 'true';
  const workspace = resolve(env.GITHUB_WORKSPACE || cwd);
  const configInput = value(raw, 'config') ?? 'dhis2-metadata.yml';
  const configAbs = insideWorkspace(workspace, configInput, 'config');
  const configPath = relative(workspace, configAbs);
  if (!existsSync(configAbs)) {
    throw new ConfigError(`config file ${configPath} not found in the workspace ${workspace} (set the config input)`);
  }
  const config = loadConfigFile(configAbs, configPath);
  const github = githubContext(env);
  // A pull request from a fork gets no secrets: say so before complaining about what the secrets held.
  // (pull_request only: pull_request_target runs with the base repository's secrets.)
  // `check` needs no server and no secrets: it runs for pull requests from forks too.
  // A dry run still runs its checks (no server needed) and then says why the server part can't run.
  const isCheck = command === 'check';
  let serverUnavailable: string | undefined;
  if (
    !isCheck &&
    github.eventName === 'pull_request' &&
    (!value(raw, 'server-url') || (!raw.password && !value(raw, 'token')))
  ) {
    const pr = readPullRequest(github);
    if (pr?.fromFork) {
      const message = forkWithoutSecretsMessage(pr.number, command);
      if (command !== 'dry-run') throw new ConfigError(message);
      serverUnavailable = message;
    }
  }
  const url = value(raw, 'server-url');
  const server =
    (isCheck && !url) || serverUnavailable
      ? { url: url ? parseServerUrl(url) : '' }
      : { url: parseServerUrl(url), auth: parseAuth(raw) };
  const programs = selectPrograms(config.programs, parseList(raw.programs), configPath);

  const reportDir = resolve(env.DHIS2_METADATA_REPORT_DIR || defaultReportDir(env));
  const sourceFile = parseSourceFile(raw, { command, workspace, reportDir, programs, configPath });

  return {
    command: command as Command,
    workspace,
    config,
    server,
    programs,
    ...parseCommit(raw),
    commitMessage: value(raw, 'commit-message'),
    githubToken: value(raw, 'github-token'),
    comment: parseBoolean(raw, 'comment'),
    label: parseLabel(raw),
    allowPlanChange: parseBoolean(raw, 'allow-plan-change'),
    serverUnavailable,
    importTimeoutMs: parseSeconds(raw, 'import-timeout'),
    initTests: value(raw, 'init-tests'),
    failOn: parseFailOn(raw),
    dataImpact: parseDataImpact(raw),
    baseline: parseBaseline(raw),
    backup: {
      name: value(raw, 'backup-name'),
      version: value(raw, 'backup-version'),
      comment: value(raw, 'backup-comment'),
      id: value(raw, 'backup-id'),
    },
    outputDir: insideWorkspace(workspace, value(raw, 'output-dir') ?? '.', 'output-dir'),
    reportDir,
    sourceFile,
    github,
    inAction,
  };
}
