/* eslint-disable no-control-regex -- the test looks for control characters */
import { describe, expect, it } from 'vitest';
import { CliReporter, terminalText } from '../../src/cli-reporter.ts';
import { code, md, mdText, programLabel, table } from '../../src/github/markdown.ts';
import { commitLine, logText, stripTerminal } from '../../src/util/text.ts';

const HOSTILE =
  'Child\n::set-output name=status::OK\r\n::add-mask::district\n  ::stop-commands::pwned\n##[add-mask]x ' +
  '@someone ![x](http://evil/p.png) [link](https://evil) <img src=x onerror=alert(1)> | **bold** _em_ ~~s~~ ' +
  '`code` &#64;entity www.evil.example $x$ #12\nCo-authored-by: Mallory <m@evil.example>\u001b[31mred\u001b]0;title\u0007';

/** What GitHub would treat as a workflow command: a line whose start, after blanks, is `::`, or a legacy `##[`. */
const workflowCommands = (log: string) => log.split(/\r?\n|\r/).filter((l) => /^\s*::/.test(l) || l.includes('##['));

describe('logText', () => {
  it('makes one line that holds no workflow command', () => {
    const line = logText(HOSTILE);
    expect(line.split(/[\r\n\u2028\u2029\u0085]/)).toHaveLength(1);
    expect(workflowCommands(line)).toEqual([]);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('Child ⏎ ::set-output'); // kept readable, but inside the line
  });
  it('splits a leading :: even after blanks', () => {
    expect(workflowCommands(logText('  ::error::forged'))).toEqual([]);
    expect(logText('::warning::x').startsWith('::')).toBe(false);
  });
  it('leaves ordinary text alone', () => {
    expect(logText('program abc (IpHINAT79UW): changed, written to metadata/a.json')).toBe(
      'program abc (IpHINAT79UW): changed, written to metadata/a.json',
    );
  });
});

describe('the reporters', () => {
  it('the CLI prints every message as one line without escape sequences', () => {
    const out: string[] = [];
    const reporter = new CliReporter(
      (l) => out.push(l),
      (l) => out.push(l),
      true,
    );
    reporter.info(HOSTILE);
    reporter.warning(HOSTILE, { file: 'a\nb.json', line: 2 });
    reporter.error(HOSTILE);
    reporter.debug(HOSTILE);
    reporter.notice(HOSTILE);
    expect(out).toHaveLength(5);
    for (const l of out) {
      expect(l).not.toMatch(/[\n\r\u001b\u0007]/);
    }
  });
});

describe('mdText', () => {
  const text = mdText(HOSTILE);
  it('leaves no HTML, link, image, emphasis, pipe or line break', () => {
    expect(text).not.toMatch(/[<>|*_`[\]\n\r]/);
    expect(text).not.toMatch(/!\[|\]\(/);
  });
  it('leaves no live mention, URL or issue reference, even once its entities are read', () => {
    // GitHub finds mentions, references and bare URLs in the text as it reads after entities are decoded.
    const read = text.replace(/&(?:#(\d+)|amp|lt|gt|quot);/g, (all, n?: string) =>
      n ? String.fromCodePoint(Number(n)) : { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' }[all]!,
    );
    expect(read).toContain('@\u200bsomeone');
    expect(read).not.toMatch(/@[A-Za-z0-9]/);
    expect(read).not.toMatch(/https?:\/\//);
    expect(read).not.toMatch(/www\./i);
    expect(read).not.toMatch(/#\d/);
    // An entity in the name stays text: its `&` is escaped, so it cannot become `@`.
    expect(text).toContain('&amp;#\u200b64;');
  });
  it('a table keeps its columns whatever the cells hold', () => {
    const t = table(['name', 'id'], [[HOSTILE, 'abc']]);
    const rows = t.split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[2]!.split('|')).toHaveLength(4); // | name | id |
  });
  it('composed markup passes, values inside it are escaped', () => {
    expect(md`**${'a|b'}** failed`.text).toBe('**a&#124;b** failed');
    expect(programLabel('IpHINAT79UW', 'x*y').text).toBe('x&#42;y (`IpHINAT79UW`)');
    expect(code('programRules[0].condition').text).toBe('`programRules[0].condition`');
    expect(code('a`b').text).not.toContain('`');
    expect(code('@someone').text).not.toMatch(/@[a-z]/);
  });
  it('the CLI shows the characters again, without terminal escapes', () => {
    const shown = terminalText(mdText('a <b> & c | d * e \u001b[2J'), false);
    expect(shown).toBe('a <b> & c | d * e [2J');
  });
});

describe('commitLine and stripTerminal', () => {
  it('a commit message value is one line', () => {
    const line = commitLine(HOSTILE);
    expect(line).not.toMatch(/[\n\r]/);
    expect(line).toContain('Co-authored-by:'); // still there, as text on the same line: not a trailer
  });
  it('strips CSI, OSC and bare escapes', () => {
    expect(stripTerminal('a\u001b[31mred\u001b[0m\u001b]0;title\u0007b\u001bcd\u009b1m')).toBe('aredbd');
    expect(stripTerminal('keep\nlines\tand tabs')).toBe('keep\nlines\tand tabs');
  });
});
