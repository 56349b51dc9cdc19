/**
 * The CLI's arguments: a command, then flags, one per action input (src/config/inputs.ts INPUTS) that the
 * command uses. Help per command (`dhis2-metadata restore --help`), `--version`, and a "did you mean" for an
 * unknown command or flag.
 */
import pkg from '../package.json' with { type: 'json' };
import { credentialsFromEnv, INPUTS, type InputName, type RawInputs } from './config/inputs.ts';
import { COMMANDS, type Command } from './config/types.ts';

export const VERSION: string = pkg.version;

const COMMAND_DESCRIPTIONS: Record<Command, string> = {
  export: 'export the programs of the config into their JSON files',
  'dry-run': 'validate the files against the server (importMode=VALIDATE) and show what would change',
  restore: 'import the files into the server, keeping its org units and sharing',
  backup: 'save an in-server backup (Program Config App compatible)',
  'list-backups': 'list the in-server backups of the programs',
  'download-backup': 'write an in-server backup as a JSON file',
  check: 'validate program rules and indicators, run the rule tests (no server needed)',
};

const SERVER: InputName[] = ['config', 'server-url', 'username', 'password', 'token', 'programs'];

/**
 * The inputs each command reads. An input missing here (a new one) is offered to every command, and a unit
 * test (test/unit/cli-args.test.ts) asks for it to be placed.
 */
export const COMMAND_INPUTS: Record<Command, readonly InputName[]> = {
  export: [
    ...SERVER,
    'commit',
    'commit-message',
    'pull-request-branch',
    'pull-request-title',
    'pull-request-labels',
    'github-token',
  ],
  'dry-run': [...SERVER, 'file', 'backup-id', 'label', 'comment', 'fail-on', 'data-impact', 'github-token'],
  restore: [...SERVER, 'file', 'backup-id', 'label', 'allow-plan-change', 'import-timeout', 'github-token'],
  backup: [...SERVER, 'backup-name', 'backup-version', 'backup-comment'],
  'list-backups': [...SERVER],
  'download-backup': [...SERVER, 'backup-id', 'output-dir'],
  check: ['config', 'programs', 'fail-on', 'baseline', 'init-tests'],
};

/** Flags of the CLI itself (not action inputs): name, value, help line, the commands that take it. */
const EXTRA_FLAGS = [
  { name: 'no-comment', help: 'same as --comment false', commands: ['dry-run'] as readonly Command[] },
  { name: 'verbose', help: 'print debug lines and the collapsed parts of the summary', commands: COMMANDS },
] as const;

type Input = (typeof INPUTS)[number];
const inputSpec = (name: string): Input | undefined => INPUTS.find((i) => i.name === name);
const isBoolean = (i: Input) => 'boolean' in i && i.boolean;

/** The inputs of a command, in the order of INPUTS (a new input not yet placed goes to every command). */
function inputsOf(command: Command): Input[] {
  const placed = new Set<string>(Object.values(COMMAND_INPUTS).flat());
  const own = new Set<string>(COMMAND_INPUTS[command]);
  return INPUTS.filter((i) => i.name !== 'command' && (own.has(i.name) || !placed.has(i.name)));
}

/** Every flag a command takes, without the dashes. */
export function flagsOf(command: Command): string[] {
  return [
    ...inputsOf(command).map((i) => i.name),
    ...EXTRA_FLAGS.filter((f) => f.commands.includes(command)).map((f) => f.name),
    'help',
  ];
}

function flagLines(command: Command, extra: [string, string][] = []): string[] {
  const rows: [string, string][] = inputsOf(command).map((i) => [
    isBoolean(i) ? `--${i.name} [<v>]` : `--${i.name} <v>`,
    `${i.description}${'default' in i ? ` (default: ${i.default})` : ''}`,
  ]);
  for (const f of EXTRA_FLAGS) if (f.commands.includes(command)) rows.push([`--${f.name}`, f.help]);
  rows.push(['-h, --help', 'show this help'], ...extra);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`);
}

const ENVIRONMENT =
  'Environment: DHIS2_SERVER_URL, DHIS2_USERNAME, DHIS2_PASSWORD, DHIS2_TOKEN fill the flags not given.';

/** The help of one command (its flags only, with their defaults), or the overview without a command. */
export function helpText(command?: Command): string {
  if (command) {
    return [
      `Usage: dhis2-metadata ${command} [flags]`,
      '',
      `${COMMAND_DESCRIPTIONS[command].replace(/^./, (c) => c.toUpperCase())}.`,
      '',
      'Flags:',
      ...flagLines(command),
      '',
      command === 'check' ? 'Needs no server.' : ENVIRONMENT,
      'Exit code: 0 on success, 1 on failure, 130 when interrupted.',
    ].join('\n');
  }
  const width = Math.max(...COMMANDS.map((c) => c.length)) + 2;
  return [
    'Usage: dhis2-metadata <command> [flags]',
    '',
    'Config-as-code for DHIS2 tracker and HNQIS2 programs.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.padEnd(width)}${COMMAND_DESCRIPTIONS[c]}`),
    '',
    'Run dhis2-metadata <command> --help for the flags of a command (one per action input).',
    '',
    'Common flags (check needs no server: it takes --config and --programs):',
    ...flagLines('list-backups', [['--version', 'print the version']]),
    '',
    ENVIRONMENT,
    'Exit code: 0 on success, 1 on failure, 130 when interrupted.',
  ].join('\n');
}

export type Parsed =
  { kind: 'help'; command?: Command } | { kind: 'version' } | { kind: 'run'; raw: RawInputs; verbose: boolean };

/** Edit distance (insertions, deletions, substitutions, and swaps of two neighbours). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, when close enough to be what was meant: a small typo, or the start of a longer name. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(w) && w.length >= 3 ? 0.5 : distance(w, c);
    if (!best || d < best.d) best = { c, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(1, Math.floor(w.length / 3)) ? best.c : undefined;
}

const didYouMean = (suggestion: string | undefined, prefix = '') =>
  suggestion ? ` (did you mean ${prefix}${suggestion}?)` : '';

class UsageError extends Error {}

function unknownCommand(word: string): never {
  throw new UsageError(
    `unknown command "${word}"${didYouMean(closest(word, COMMANDS))}; the commands: ${COMMANDS.join(', ')}`,
  );
}

/** The commands that take a flag, for "--commit is a flag of export". */
function commandsWith(flag: string): Command[] {
  return COMMANDS.filter((c) => flagsOf(c).includes(flag));
}

function unknownFlag(flag: string, command: Command | undefined): never {
  const name = flag.replace(/^-+/, '');
  if (command) {
    const elsewhere = commandsWith(name);
    if (elsewhere.length > 0) {
      throw new UsageError(`--${name} is not a flag of ${command} (it is one of ${elsewhere.join(', ')})`);
    }
    throw new UsageError(`unknown flag ${flag} for ${command}${didYouMean(closest(name, flagsOf(command)), '--')}`);
  }
  const all = [...new Set(COMMANDS.flatMap(flagsOf))];
  throw new UsageError(`unknown flag ${flag}${didYouMean(closest(name, all), '--')}`);
}

/** Boolean inputs take a value only when one follows (`--commit`, `--commit false`, `--commit pull-request`). */
const BOOLEAN_VALUE = /^(true|false|True|False|TRUE|FALSE|pull-request)$/;

/** Parses argv (without node and the script); throws an Error with a usage message when wrong. */
export function parseCli(argv: string[], env: Record<string, string | undefined>): Parsed {
  let command: Command | undefined;
  let helpFor = false;
  let help = false;
  let version = false;
  let verbose = false;
  const positionals: string[] = [];
  const flags: [string, string, string][] = []; // flag as written, input name, value
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k] as string;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '--version' || arg === '-V') {
      version = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      if (positionals.length === 1) {
        if (arg === 'help') helpFor = true;
        else if ((COMMANDS as readonly string[]).includes(arg)) command = arg as Command;
        else unknownCommand(arg);
      } else if (positionals.length === 2 && helpFor) {
        if (!(COMMANDS as readonly string[]).includes(arg)) unknownCommand(arg);
        command = arg as Command;
      }
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq > 0 ? arg.slice(0, eq) : arg;
    const name = written.startsWith('--') ? written.slice(2) : '';
    if (name === 'verbose' || name === 'no-comment') {
      if (eq > 0) throw new UsageError(`${written} takes no value`);
      if (name === 'verbose') verbose = true;
      else flags.push([written, 'comment', 'false']);
      continue;
    }
    const spec = inputSpec(name);
    if (!spec || spec.name === 'command') {
      flags.push([written, '', '']);
      // Its value, if one follows, is not a command.
      const next = argv[k + 1];
      if (eq < 0 && next !== undefined && !next.startsWith('-') && !(COMMANDS as readonly string[]).includes(next)) k++;
      continue;
    }
    let v: string | undefined;
    if (eq > 0) v = arg.slice(eq + 1);
    else if (isBoolean(spec)) {
      const next = argv[k + 1];
      v = next !== undefined && BOOLEAN_VALUE.test(next) ? (k++, next) : 'true';
    } else {
      const next = argv[k + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${written} needs a value`);
      v = next;
      k++;
    }
    flags.push([written, spec.name, v]);
  }
  if (help || helpFor || argv.length === 0) return command ? { kind: 'help', command } : { kind: 'help' };
  if (version) return { kind: 'version' };
  // The flags are checked against the command once it is known, wherever it was written.
  for (const [written, name] of flags) if (!name) unknownFlag(written, command);
  if (positionals.length > (helpFor ? 2 : 1)) {
    throw new UsageError(`one command at a time (got: ${positionals.join(' ')})`);
  }
  if (!command) throw new UsageError(`no command: give one of ${COMMANDS.join(', ')}`);
  for (const [written, name] of flags) {
    if (!flagsOf(command).includes(written === '--no-comment' ? 'no-comment' : name)) unknownFlag(written, command);
  }

  const raw: RawInputs = { ...credentialsFromEnv(env) };
  if (env.GITHUB_TOKEN) raw['github-token'] = env.GITHUB_TOKEN;
  raw.command = command;
  for (const [, name, v] of flags) raw[name as InputName] = v;
  return { kind: 'run', raw, verbose };
}
