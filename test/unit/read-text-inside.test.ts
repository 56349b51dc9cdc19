/**
 * readTextInside (src/util/paths.ts) opens the file first and asks the descriptor what it is: nothing can be
 * swapped in between a check and the read. A FIFO nobody writes is refused at once (opened without waiting
 * for a writer), a folder and a missing file say what they are, a link is refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTextInside, workspaceBoundary } from '../../src/util/paths.ts';

const root = mkdtempSync(join(tmpdir(), 'read-inside-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const inside = workspaceBoundary(root);

describe('readTextInside', () => {
  it('reads a regular file without its byte order mark; a missing one is undefined', () => {
    writeFileSync(join(root, 'a.json'), '\uFEFF{"programs":[]}');
    expect(readTextInside(inside, 'a.json', 'file')).toBe('{"programs":[]}');
    expect(readTextInside(inside, 'missing.json', 'file')).toBeUndefined();
  });

  it('a folder is a folder', () => {
    mkdirSync(join(root, 'dir.json'));
    expect(() => readTextInside(inside, 'dir.json', 'file')).toThrow('file "dir.json" is a folder, not a file');
  });

  it('a FIFO is refused at once, not waited on', () => {
    const made = spawnSync('mkfifo', [join(root, 'fifo.json')]);
    if (made.status !== 0) return; // no mkfifo here: nothing to test
    const started = Date.now();
    expect(() => readTextInside(inside, 'fifo.json', 'file')).toThrow('file "fifo.json" is not a regular file');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a link to a file outside is refused', () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    try {
      writeFileSync(join(outside, 'secret.json'), '{}');
      symlinkSync(join(outside, 'secret.json'), join(root, 'link.json'));
      expect(() => readTextInside(inside, 'link.json', 'file')).toThrow();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
