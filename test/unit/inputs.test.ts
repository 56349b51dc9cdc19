import { afterEach, describe, expect, it } from 'vitest';
import { buildSettings, parseList, type RawInputs } from '../../src/config/inputs.ts';
import { ConfigError } from '../../src/errors.ts';
import { clearSecrets, redact } from '../../src/util/secrets.ts';
import { MINIMAL_CONFIG, tempWorkspace } from '../helpers/workspace.ts';

const TWO_PROGRAMS = `target: current-server
programs:
  - id: IpHINAT79UW
  - id: ur1Edk5Oe2n
    file: metadata/tb.json
`;

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
  clearSecrets();
});

function settingsFor(raw: RawInputs, config = MINIMAL_CONFIG, env: Record<string, string> = {}) {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': config });
  cleanup.push(ws.remove);
  return buildSettings(
    { command: 'export', 'server-url': 'https://dhis2.example.org/dhis/', ...raw },
    { cwd: ws.dir, env: { ...env } },
  );
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('buildSettings', () => {
  it('builds one typed settings object with defaults', () => {
    const s = settingsFor({ username: 'admin', password: 'district' });
    expect(s.command).toBe('export');
    expect(s.server.url).toBe('https://dhis2.example.org/dhis');
    expect(s.server.auth).toEqual({ kind: 'basic', username: 'admin', password: 'district' });
    expect(s.commit).toBe(false);
    expect(s.comment).toBe(true);
    expect(s.programs.map((p) => p.id)).toEqual(['IpHINAT79UW']);
    expect(s.config.path).toBe('dhis2-metadata.yml');
    expect(s.outputDir).toBe(s.workspace);
  });

  it('uses GITHUB_WORKSPACE and RUNNER_TEMP inside a runner', () => {
    const ws = tempWorkspace({ 'dhis2-metadata.yml': MINIMAL_CONFIG });
    cleanup.push(ws.remove);
    const s = buildSettings(
      { command: 'dry-run', 'server-url': 'http://localhost:8080', token: 'd2p_abc' },
      { cwd: '/', env: { GITHUB_WORKSPACE: ws.dir, RUNNER_TEMP: '/tmp/rt', GITHUB_ACTIONS: 'true' } },
    );
    expect(s.workspace).toBe(ws.dir);
    expect(s.reportDir).toBe('/tmp/rt/dhis2-metadata');
    expect(s.inAction).toBe(true);
    expect(s.server.auth).toEqual({ kind: 'token', token: 'd2p_abc' });
  });

  it('filters programs by the programs input, comma or newline separated', () => {
    const s = settingsFor({ programs: 'ur1Edk5Oe2n\n' }, TWO_PROGRAMS);
    expect(s.programs).toEqual([expect.objectContaining({ id: 'ur1Edk5Oe2n', file: 'metadata/tb.json' })]);
    expect(parseList('a, b\nc,,')).toEqual(['a', 'b', 'c']);
  });

  it('names a program that is not in the config', () => {
    const e = errorOf(() => settingsFor({ programs: 'IpHINAT79UW,XXXXXXXXXXX' }, TWO_PROGRAMS));
    expect(e.message).toContain('XXXXXXXXXXX');
    expect(e.message).toContain('dhis2-metadata.yml');
  });

  it.each([
    [
      { command: 'exprt' },
      'input command must be one of: export, dry-run, restore, backup, list-backups, download-backup',
    ],
    [{ 'server-url': '' }, 'input server-url is required'],
    [{ 'server-url': 'dhis2.example.org' }, 'input server-url is not a valid URL'],
    [{ 'server-url': 'ftp://dhis2.example.org' }, 'must start with http:// or https://'],
    [{ token: 't', username: 'u', password: 'p' }, 'either token or username/password'],
    [{ username: 'u' }, 'input password is required'],
    [{ commit: 'yes' }, 'input commit must be true, false or pull-request (got "yes")'],
    [{ config: '../outside.yml' }, 'input config must stay inside the workspace'],
    [{ config: 'missing.yml' }, 'config file missing.yml not found'],
    [{ 'output-dir': '/etc' }, 'input output-dir must stay inside the workspace'],
  ] as [RawInputs, string][])('rejects %j with a clear message', (raw, message) => {
    expect(errorOf(() => settingsFor(raw)).message).toContain(message);
  });

  it('registers secrets, and never echoes credentials put in the URL', () => {
    settingsFor({ username: 'admin', password: 'S3cret-pass' });
    expect(redact('login with S3cret-pass')).toBe('login with ***');
    const e = errorOf(() => settingsFor({ 'server-url': 'https://admin:Hunter22@dhis2.example.org' }));
    expect(e.message).not.toContain('Hunter22');
    expect(redact('Hunter22')).toBe('***');
  });
});
