/** Rule test files are read inside the workspace only: a link out of it is refused, as every other read. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findTestFiles, readTestFile } from '../../src/check/rule-test-file.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const workspace = mkdtempSync(join(tmpdir(), 'ws-'));
  const outside = mkdtempSync(join(tmpdir(), 'outside-'));
  dirs.push(workspace, outside);
  writeFileSync(join(outside, 'secret.yml'), 'program: abc\ncases: []\n# secret content\n');
  return { workspace, outside };
}

describe('rule test files and the workspace boundary', () => {
  it('refuses a rule-tests folder that is a link out of the workspace', () => {
    const { workspace, outside } = setup();
    symlinkSync(outside, join(workspace, 'rule-tests'));
    expect(() => findTestFiles(workspace, undefined)).toThrow(/leads outside .* through a symbolic link/);
  });

  it('refuses a linked file inside the rule-tests folder, and never shows its content', () => {
    const { workspace, outside } = setup();
    mkdirSync(join(workspace, 'rule-tests'));
    symlinkSync(join(outside, 'secret.yml'), join(workspace, 'rule-tests', 'epi.yml'));
    let message = '';
    try {
      findTestFiles(workspace, undefined);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/symbolic link: refused/);
    expect(message).not.toContain('secret content');
    expect(() => readTestFile(workspace, 'rule-tests/epi.yml')).toThrow(/symbolic link: refused/);
  });

  it('reads a plain file inside', () => {
    const { workspace } = setup();
    mkdirSync(join(workspace, 'rule-tests'));
    writeFileSync(
      join(workspace, 'rule-tests', 'a.yml'),
      'program: abc\ncases:\n  - name: c\n    expect:\n      - {action: SHOWERROR}\n',
    );
    expect(findTestFiles(workspace, undefined)).toEqual(['rule-tests/a.yml']);
    expect(readTestFile(workspace, 'rule-tests/a.yml').program).toBe('abc');
  });
});
