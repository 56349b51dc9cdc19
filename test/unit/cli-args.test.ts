import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { closest, COMMAND_INPUTS, flagsOf, helpText, parseCli, VERSION } from '../../src/cli-args.ts';
import { INPUTS } from '../../src/config/inputs.ts';
import { COMMANDS } from '../../src/config/types.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const flagsInHelp = (text: string) => [...text.matchAll(/^\s+(?:-h, )?--([a-z-]+)/gm)].map((m) => m[1]);

describe('CLI flags', () => {
  it('has one --flag per action input, and action.yml declares exactly the inputs the code reads', () => {
    const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
    expect(Object.keys(action.inputs).sort()).toEqual(INPUTS.map((i) => i.name).sort());
    const everyHelp = COMMANDS.map((c) => helpText(c)).join('\n');
    for (const i of INPUTS) {
      if (i.name !== 'command') expect(everyHelp).toContain(`--${i.name}`);
      // Defaults agree, except github-token whose action default is an expression.
      if ('default' in i) expect(action.inputs[i.name]?.default).toBe(i.default);
    }
  });

  it('every input is placed with the commands that read it', () => {
    const placed = new Set<string>(Object.values(COMMAND_INPUTS).flat());
    expect(INPUTS.map((i) => i.name).filter((n) => n !== 'command' && !placed.has(n))).toEqual([]);
    for (const names of Object.values(COMMAND_INPUTS)) {
      for (const n of names) expect(INPUTS.map((i) => i.name)).toContain(n);
    }
  });

  it('maps flags and DHIS2_* variables to inputs; flags win', () => {
    const parsed = parseCli(['export', '--config', 'x.yml', '--programs=a,b', '--commit', '--token', 'flagtoken'], {
      DHIS2_SERVER_URL: 'http://localhost:8080',
      DHIS2_TOKEN: 'envtoken',
    });
    expect(parsed).toEqual({
      kind: 'run',
      verbose: false,
      raw: {
        command: 'export',
        config: 'x.yml',
        programs: 'a,b',
        commit: 'true',
        token: 'flagtoken',
        'server-url': 'http://localhost:8080',
      },
    });
  });

  it('a boolean flag takes a value only when one follows; the command may come after the flags', () => {
    expect(parseCli(['--commit', 'export'], {})).toMatchObject({
      kind: 'run',
      raw: { command: 'export', commit: 'true' },
    });
    expect(parseCli(['export', '--commit', 'pull-request'], {})).toMatchObject({ raw: { commit: 'pull-request' } });
    expect(parseCli(['restore', '--allow-plan-change', 'false'], {})).toMatchObject({
      raw: { 'allow-plan-change': 'false' },
    });
    expect(() => parseCli(['restore', '--file'], {})).toThrow(/--file needs a value/);
  });

  it('reads username/password from the environment and --no-comment', () => {
    const parsed = parseCli(['dry-run', '--no-comment', '--verbose'], {
      DHIS2_USERNAME: 'admin',
      DHIS2_PASSWORD: 'district',
    });
    expect(parsed).toMatchObject({
      kind: 'run',
      verbose: true,
      raw: { username: 'admin', password: 'district', comment: 'false' },
    });
  });

  it('shows help for --help, -h, help and no arguments; per command with help <command> or <command> -h', () => {
    expect(parseCli(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCli(['help'], {})).toEqual({ kind: 'help' });
    expect(parseCli([], {})).toEqual({ kind: 'help' });
    expect(parseCli(['restore', '--help'], {})).toEqual({ kind: 'help', command: 'restore' });
    expect(parseCli(['restore', '-h', '--sever-url'], {})).toEqual({ kind: 'help', command: 'restore' });
    expect(parseCli(['help', 'export'], {})).toEqual({ kind: 'help', command: 'export' });
    expect(parseCli(['--version'], {})).toEqual({ kind: 'version' });
    expect(VERSION).toBe(pkg.version);
  });

  it("a command's help lists exactly its flags, with their defaults", () => {
    const restore = helpText('restore');
    expect(restore).toMatch(/^Usage: dhis2-metadata restore \[flags\]/);
    expect(flagsInHelp(restore).sort()).toEqual(flagsOf('restore').sort());
    expect(restore).toMatch(/--import-timeout <v> +.*\(default: 1800\)/);
    expect(restore).toMatch(/--config <v> +.*\(default: dhis2-metadata\.yml\)/);
    expect(restore).not.toContain('--commit');
    expect(restore).not.toContain('--backup-name');
    const check = helpText('check');
    expect(flagsInHelp(check).sort()).toEqual([
      'baseline',
      'config',
      'fail-on',
      'help',
      'init-tests',
      'programs',
      'verbose',
    ]);
    expect(check).not.toContain('--server-url');
    expect(helpText()).toContain('--version');
  });

  it('rejects unknown flags and commands with a "did you mean", flags of another command, and two commands', () => {
    expect(() => parseCli(['export', '--sever-url', 'x'], {})).toThrow(
      /^unknown flag --sever-url for export \(did you mean --server-url\?\)$/,
    );
    expect(() => parseCli(['restore', '--import-timout', '5'], {})).toThrow(/did you mean --import-timeout\?/);
    expect(() => parseCli(['restore', '--commit'], {})).toThrow(
      /^--commit is not a flag of restore \(it is one of export\)$/,
    );
    expect(() => parseCli(['restor'], {})).toThrow(/^unknown command "restor" \(did you mean restore\?\)/);
    expect(() => parseCli(['dryrun'], {})).toThrow(/did you mean dry-run\?/);
    expect(() => parseCli(['list'], {})).toThrow(/did you mean list-backups\?/);
    expect(() => parseCli(['deploy'], {})).toThrow(/^unknown command "deploy"; the commands: export, dry-run/);
    expect(() => parseCli(['export', '--zzzzzz'], {})).toThrow(/^unknown flag --zzzzzz for export$/);
    expect(() => parseCli(['export', '-x'], {})).toThrow(/unknown flag -x/);
    expect(() => parseCli(['--config', 'a.yml'], {})).toThrow(/^no command/);
    expect(() => parseCli(['export', 'restore'], {})).toThrow(/one command at a time/);
  });

  it('closest: small typos and prefixes, nothing far off', () => {
    expect(closest('exprot', COMMANDS)).toBe('export');
    expect(closest('download', COMMANDS)).toBe('download-backup');
    expect(closest('x', COMMANDS)).toBeUndefined();
    expect(closest('tokn', ['token', 'config'])).toBe('token');
  });
});
