import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { helpText, parseCli } from '../../src/cli-args.ts';
import { INPUTS } from '../../src/config/inputs.ts';

describe('CLI flags', () => {
  it('has one --flag per action input, and action.yml declares exactly the inputs the code reads', () => {
    const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
    expect(Object.keys(action.inputs).sort()).toEqual(INPUTS.map((i) => i.name).sort());
    for (const i of INPUTS) {
      if (i.name !== 'command') expect(helpText()).toContain(`--${i.name}`);
      // Defaults agree, except github-token whose action default is an expression.
      if ('default' in i) expect(action.inputs[i.name]?.default).toBe(i.default);
    }
  });

  it('maps flags and DHIS2_* variables to inputs; flags win', () => {
    const parsed = parseCli(['export', '--config', 'x.yml', '--programs', 'a,b', '--commit', '--token', 'flagtoken'], {
      DHIS2_SERVER_URL: 'http://localhost:8080',
      DHIS2_TOKEN: 'envtoken',
    });
    expect(parsed).toEqual({
      help: false,
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

  it('reads username/password from the environment and --no-comment', () => {
    const parsed = parseCli(['dry-run', '--no-comment'], { DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district' });
    expect(parsed.help).toBe(false);
    if (!parsed.help) expect(parsed.raw).toMatchObject({ username: 'admin', password: 'district', comment: 'false' });
  });

  it('shows help for --help, help and no arguments', () => {
    expect(parseCli(['--help'], {}).help).toBe(true);
    expect(parseCli(['help'], {}).help).toBe(true);
    expect(parseCli([], {}).help).toBe(true);
  });

  it('rejects unknown flags and two commands', () => {
    expect(() => parseCli(['export', '--sever-url', 'x'], {})).toThrow(/sever-url/);
    expect(() => parseCli(['export', 'restore'], {})).toThrow(/one command at a time/);
  });
});
