import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { blocks } from '../../src/github/markdown.ts';
import { provenanceLine, serverTitle } from '../../src/github/pr-comment.ts';

const ctx = { serverUrl: 'https://github.com', repository: 'acme/dhis2-config', runId: '42' };
const NOW = new Date('2026-03-04T05:06:07Z');

describe('provenanceLine: the commit, the time and the run a report was made for', () => {
  it('names the short commit, the time in UTC and links the run', () => {
    expect(provenanceLine(ctx, 'abcdef0123456789abcdef0123456789abcdef01', NOW)).toBe(
      'For commit `abcdef0` at 2026-03-04 05:06 UTC in [workflow run 42](https://github.com/acme/dhis2-config/actions/runs/42).',
    );
  });

  it('leaves out what it cannot vouch for: a sha that is not hex, a run id that is not a number', () => {
    expect(provenanceLine(ctx, 'not-a-sha`<b>', NOW)).toBe(
      'At 2026-03-04 05:06 UTC in [workflow run 42](https://github.com/acme/dhis2-config/actions/runs/42).',
    );
    expect(provenanceLine({ ...ctx, runId: '42](https://evil' }, undefined, NOW)).toBe('At 2026-03-04 05:06 UTC.');
    expect(provenanceLine({ serverUrl: 'https://github.com' }, undefined, NOW)).toBe('At 2026-03-04 05:06 UTC.');
  });
});

describe('serverTitle: the label is text, never Markdown', () => {
  it('is empty without a label, and inert with a hostile one', () => {
    expect(serverTitle(undefined)).toBe('');
    const html = new MarkdownIt({ html: true }).render(`### DHIS2 dry run${serverTitle('**x** <img src=y> @team')}`);
    expect(html).not.toMatch(/<strong>|<img|<a /);
    expect(html).toContain('<h3>');
  });
});

describe('blocks: sections never run into each other', () => {
  it('a paragraph after a list is a paragraph of its own, not the last item', () => {
    const md = new MarkdownIt();
    const tokens = md.parse(blocks('- one\n- two', '**B**: 1 new', '| a |\n| --- |\n| 1 |', ''), {});
    const types = tokens.filter((t) => t.level === 0).map((t) => t.type);
    expect(types).toEqual([
      'bullet_list_open',
      'bullet_list_close',
      'paragraph_open',
      'paragraph_close',
      'table_open',
      'table_close',
    ]);
    // Without the blank line, the same paragraph is swallowed by the last item (the bug blocks() prevents).
    const glued = md
      .parse('- one\n- two\n**B**: 1 new', {})
      .filter((t) => t.level === 0)
      .map((t) => t.type);
    expect(glued).toEqual(['bullet_list_open', 'bullet_list_close']);
  });
});
