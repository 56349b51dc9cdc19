import { describe, expect, it } from 'vitest';
import { terminalText } from '../../src/cli-reporter.ts';
import { blocks, code, md, mdText, table } from '../../src/github/markdown.ts';

/** The CLI prints the job summary as plain text: no Markdown syntax, no HTML, tables as aligned columns. */
const summary = blocks(
  `### ✅ DHIS2 restore: OK on ${mdText('https://play.dhis2.org/dev')} (DHIS2 2.41.3)`,
  md`
**What really changes: 1 object** (0 new, 1 changed). See [the run](https://github.com/o/r/actions/runs/1).
  `,
  table(
    ['program', 'status', 'created', 'updated'],
    [
      [md`${'Child | care *program*'} (${code('IpHINAT79UW')})`, 'OK', 0, 12],
      [md`TB (${code('Lt6P15ps7f6')})`, 'WARNING', 103, 4],
    ],
    ['left', 'left', 'right', 'right'],
  ),
  '#### Rollback point',
  '- `IpHINAT79UW`: `/tmp/r/IpHINAT79UW.json`',
  '<details><summary>Objects per type</summary>\n\n| type | n |\n| --- | ---: |\n| dataElements | 7 |\n\n</details>',
  '```sh\ndhis2-metadata restore --programs IpHINAT79UW --file /tmp/r/*_x_*.json\n```',
);

describe('terminalText', () => {
  const text = terminalText(summary, false);

  it('renders tables as aligned columns, numbers right-aligned, untrusted pipes and stars as text', () => {
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('program'));
    expect(lines.slice(header, header + 4)).toEqual([
      'program                               status   created  updated',
      '------------------------------------  -------  -------  -------',
      'Child | care *program* (IpHINAT79UW)  OK             0       12',
      'TB (Lt6P15ps7f6)                      WARNING      103        4',
    ]);
  });

  it('has no Markdown or HTML left: headings underlined, emphasis and code spans plain, links as text (url)', () => {
    expect(text).not.toMatch(/\*\*|`|<\/?[a-z]|^#+ |\| ---|&#/m);
    expect(text).toContain('✅ DHIS2 restore: OK on https://play.dhis2.org/dev (DHIS2 2.41.3)\n====');
    expect(text).toContain('Rollback point\n--------------');
    expect(text).toContain(
      'What really changes: 1 object (0 new, 1 changed). See the run (https://github.com/o/r/actions/runs/1).',
    );
    expect(text).toContain('- IpHINAT79UW: /tmp/r/IpHINAT79UW.json');
    expect(text).not.toContain('\u200b');
  });

  it('collapsed details show their title with a hint; --verbose shows them, tables rendered too', () => {
    expect(text).toContain('Objects per type (--verbose shows them)');
    expect(text).not.toContain('dataElements');
    const verbose = terminalText(summary, true);
    expect(verbose).toMatch(/Objects per type\n\ntype {10}n\n-{12} {2}-\ndataElements {2}7/);
  });

  it('prints code blocks as they are, indented', () => {
    expect(text).toContain('\n    dhis2-metadata restore --programs IpHINAT79UW --file /tmp/r/*_x_*.json');
    expect(text).not.toContain('```');
  });
});
