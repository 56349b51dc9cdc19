import { afterEach, describe, expect, it } from 'vitest';
import { buildSettings, type RawInputs } from '../../src/config/inputs.ts';
import { ConfigError } from '../../src/errors.ts';
import { commentMarker } from '../../src/github/pr-comment.ts';
import { MINIMAL_CONFIG, tempWorkspace } from '../helpers/workspace.ts';

let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function settingsFor(raw: RawInputs) {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': MINIMAL_CONFIG });
  cleanup.push(ws.remove);
  return buildSettings(
    { command: 'dry-run', 'server-url': 'https://dhis2.example.org', token: 't', ...raw },
    { cwd: ws.dir, env: {} },
  );
}

describe('the label input', () => {
  it('is optional, trimmed, and one short line', () => {
    expect(settingsFor({}).label).toBeUndefined();
    expect(settingsFor({ label: '  staging ' }).label).toBe('staging');
    expect(() => settingsFor({ label: 'staging\nproduction' })).toThrow(ConfigError);
    expect(() => settingsFor({ label: 'x'.repeat(61) })).toThrow(/at most 60 characters/);
  });

  it('is not part of the comment marker: the comment and the review are found by config and server', () => {
    const a = settingsFor({ label: 'staging' });
    const b = settingsFor({});
    expect(commentMarker(a.config.path, a.server.url)).toBe(commentMarker(b.config.path, b.server.url));
    expect(commentMarker(a.config.path, a.server.url)).not.toContain('staging');
  });
});
