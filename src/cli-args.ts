/** The CLI's flags: one per action input (src/config/inputs.ts INPUTS), and its help text. */
import { parseArgs } from 'node:util';
import { credentialsFromEnv, INPUTS, type InputName, type RawInputs } from './config/inputs.ts';

export function helpText(): string {
  const width = Math.max(...INPUTS.map((i) => i.name.length)) + 4;
  const flags = INPUTS.filter((i) => i.name !== 'command').map((i) => {
    const flag = 'boolean' in i && i.boolean ? `--${i.name}` : `--${i.name} <v>`;
    const dflt = 'default' in i ? ` (default: ${i.default})` : '';
    return `  ${flag.padEnd(width + 6)}${i.description}${dflt}`;
  });
  return [
    'Usage: dhis2-metadata <command> [flags]',
    '',
    'Config-as-code for DHIS2 tracker and HNQIS2 programs.',
    '',
    'Commands:',
    '  export            export the programs of the config into their JSON files',
    '  dry-run           validate the files against the server (importMode=VALIDATE) and show what would change',
    '  restore           import the files into the server, keeping its org units and sharing',
    '  backup            save an in-server backup (Program Config App compatible)',
    '  list-backups      list the in-server backups of the programs',
    '  download-backup   write an in-server backup as a JSON file',
    '  check             validate program rules and indicators, run the rule tests (no server needed)',
    '',
    'Flags (one per action input):',
    ...flags,
    `  ${'--no-comment'.padEnd(width + 6)}same as --comment false`,
    `  ${'--verbose'.padEnd(width + 6)}print debug lines`,
    `  ${'--help'.padEnd(width + 6)}show this help`,
    '',
    'Environment: DHIS2_SERVER_URL, DHIS2_USERNAME, DHIS2_PASSWORD, DHIS2_TOKEN fill the flags not given.',
    'Exit code: 0 on success, 1 on failure.',
  ].join('\n');
}

export type Parsed = { help: true } | { help: false; raw: RawInputs; verbose: boolean };

/** Parses argv (without node and the script); throws a plain Error with a usage message when wrong. */
export function parseCli(argv: string[], env: Record<string, string | undefined>): Parsed {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const i of INPUTS) if (i.name !== 'command') options[i.name] = { type: 'string' };
  options['no-comment'] = { type: 'boolean' };
  options.verbose = { type: 'boolean' };
  // Boolean inputs may be given bare (`--commit`): make that `--commit true` before parsing.
  const booleans = new Set(INPUTS.filter((i) => 'boolean' in i && i.boolean).map((i) => `--${i.name}`));
  const args: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k] as string;
    args.push(a);
    const next = argv[k + 1];
    if (booleans.has(a) && (next === undefined || next.startsWith('--'))) args.push('true');
  }
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (values.help || positionals[0] === 'help' || argv.length === 0) return { help: true };
  if (positionals.length > 1) throw new Error(`one command at a time (got: ${positionals.join(' ')})`);

  const raw: RawInputs = { ...credentialsFromEnv(env) };
  if (env.GITHUB_TOKEN) raw['github-token'] = env.GITHUB_TOKEN;
  raw.command = positionals[0];
  for (const i of INPUTS) {
    const v = values[i.name];
    if (typeof v === 'string') raw[i.name as InputName] = v;
  }
  if (values['no-comment']) raw.comment = 'false';
  return { help: false, raw, verbose: Boolean(values.verbose) };
}
