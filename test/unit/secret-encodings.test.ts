/**
 * Secrets in every form they can take (issue 17): registerSecret derives the encoded variants of a secret
 * once and redact() replaces all of them; the writers (mdText, code, the JSON report, the CLI's output)
 * redact the raw text before they escape it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { shortComment } from '../../src/backups/programs.ts';
import { CliReporter } from '../../src/cli-reporter.ts';
import { dhis2Says } from '../../src/dhis2/errors.ts';
import { authorizationHeader } from '../../src/dhis2/http.ts';
import { encodeQueryComponent } from '../../src/dhis2/query.ts';
import { normaliseServerUrl } from '../../src/dhis2/server-url.ts';
import { UserError } from '../../src/errors.ts';
import { code, markdownText, Markup, md, mdText, programLabel, table } from '../../src/github/markdown.ts';
import { formatValue } from '../../src/metadata/diff.ts';
import {
  clearSecrets,
  holdsSecret,
  onSecret,
  redact,
  redactValue,
  refuseSecret,
  registerBasicAuth,
  registerSecret,
  registeredSecrets,
  secretVariants,
} from '../../src/util/secrets.ts';
import { commitLine, logText } from '../../src/util/text.ts';

afterEach(() => clearSecrets());

const SPECIALS = ['_', '!', '"', '\\', '#', '<', '>', '*', '|', '[', ']', '&', '%', '`', '~', '$', '@', ':', ',', '/'];
const SECRETS: [string, string][] = [
  ...SPECIALS.map((c): [string, string] => [`with ${c}`, `Pw${c}k3y${c}x9`]),
  ['of the issue', 'Pa_ss!w"o\\d#24'],
  ['a d2p_ token', 'd2p_Xq7Rk2VwN9bT4mLs8CzH3fJd6PyG1aUe5oWi0QnBvKt'],
  ['with spaces and unicode', 'pässwörd mit  Leer zeichen ✓ 密码'],
  ['with all of them', '_!"\\#<>*|[]&% x'],
  ['a URL-like one', 'https://www.x.example/@me'],
];

const json = (s: string) => JSON.stringify(s).slice(1, -1);
const commandData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** The forms, each computed here as the writer (or a server) computes it. */
function forms(s: string): Record<string, string> {
  return {
    raw: s,
    'JSON-escaped': json(s),
    'JSON-escaped twice': json(json(s)),
    'JSON with \\u escapes': json(s).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ),
    'JSON with \\u escapes (upper case)': json(s).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`,
    ),
    'JSON with \\/': json(s).replace(/\//g, '\\/'),
    'mdText-escaped': markdownText(s),
    'mdText-escaped twice': markdownText(markdownText(s)),
    'mdText-escaped JSON': markdownText(json(s)),
    'JSON-escaped mdText': json(markdownText(s)),
    'HTML-escaped': s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
    'mdText-escaped HTML': markdownText(s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')),
    encodeURIComponent: encodeURIComponent(s),
    'encodeURIComponent, lower case': encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()),
    'encodeURIComponent twice': encodeURIComponent(encodeURIComponent(s)),
    encodeQueryComponent: encodeQueryComponent(s),
    'form-encoded': new URLSearchParams({ v: s }).toString().slice(2),
    encodeURI: encodeURI(s),
    'JSON-escaped URL': json(encodeURIComponent(s)),
    'workflow command (%25)': commandData(s),
    'workflow command property': commandData(s).replace(/:/g, '%3A').replace(/,/g, '%2C'),
    'one line (commitLine)': commitLine(s),
    'log line (logText)': logText(s),
    NFD: s.normalize('NFD'),
  };
}

describe('redact: every form of a secret', () => {
  it.each(SECRETS)('a secret %s', (_label, secret) => {
    registerSecret(secret);
    for (const [form, value] of Object.entries(forms(secret))) {
      expect(redact(`before ${value} after`), form).toBe('before *** after');
    }
  });

  it('the base64 of user:password (with and without padding), the Authorization header', () => {
    const password = 'Pa_ss!w"o\\d#24';
    const header = authorizationHeader({ kind: 'basic', username: 'deployer', password });
    const encoded = Buffer.from(`deployer:${password}`, 'utf8').toString('base64');
    expect(header).toBe(`Basic ${encoded}`);
    expect(redact(`sent ${header}`)).toBe('sent Basic ***');
    expect(redact(`b64 ${encoded.replace(/=+$/, '')} end`)).toBe('b64 *** end');
    expect(redact(`url ${encodeURIComponent(encoded)} end`)).toBe('url *** end');
    expect(redact(`pw ${markdownText(password)} end`)).toBe('pw *** end');
    expect(registerBasicAuth('deployer', password)).toBe(encoded);
  });

  it('a secret that holds another is masked whole; one under 3 characters is left alone', () => {
    registerSecret('abc');
    registerSecret('abc_def');
    registerSecret('xy');
    expect(redact('abc_def and abc&#95;def and abc, xy')).toBe('*** and *** and ***, xy');
  });

  it('a lone surrogate or a stray % does not break the derivation', () => {
    expect(() => registerSecret('bad\ud800pw%zz')).not.toThrow();
    expect(redact('x bad\ud800pw%zz y')).toBe('x *** y');
  });

  it('clearSecrets forgets the variants too', () => {
    registerSecret('Pa_ss!w"o\\d#24');
    clearSecrets();
    expect(redact('Pa&#95;ss&#33;w"o&#92;d#\u200b24')).toBe('Pa&#95;ss&#33;w"o&#92;d#\u200b24');
    expect(registeredSecrets()).toEqual([]);
  });

  it('the rendered password of the issue (`Pa&#95;ss&#33;w"o&#92;d#24`) is caught', () => {
    registerSecret('Pa_ss!w"o\\d#24');
    expect(redact('bad Pa&#95;ss&#33;w"o&#92;d#\u200b24')).toBe('bad ***');
    expect(redact('bad Pa&#95;ss&#33;w"o&#92;d#24')).toBe('bad ***'); // as the issue shows it
    expect(redact('{"message":"bad Pa_ss!w\\"o\\\\d#24"}')).toBe('{"message":"bad ***"}');
  });
});

describe('the variants are masked in the runner log', () => {
  it('onSecret is told of each form, past and future', () => {
    registerSecret('Pa_ss!w"o\\d#24');
    const told: string[] = [];
    onSecret((v) => told.push(v));
    registerBasicAuth('deployer', 'other&pw<1>');
    for (const secret of ['Pa_ss!w"o\\d#24', 'other&pw<1>']) {
      for (const form of ['raw', 'JSON-escaped', 'mdText-escaped', 'encodeURIComponent', 'encodeQueryComponent']) {
        expect(told, `${secret} ${form}`).toContain(forms(secret)[form]);
      }
    }
    expect(told).toContain(Buffer.from('deployer:other&pw<1>').toString('base64'));
  });

  it('a short secret is still given to the runner as it is, without variants', () => {
    const told: string[] = [];
    onSecret((v) => told.push(v));
    registerSecret('a_');
    expect(told).toEqual(['a_']);
  });

  it('secretVariants: each at least 3 characters, the secret first', () => {
    const variants = secretVariants('Pw_k3y');
    expect(variants[0]).toBe('Pw_k3y');
    expect(variants).toContain('Pw&#95;k3y');
    expect(variants.every((v) => v.trim().length >= 3)).toBe(true);
  });
});

describe('the writers redact the raw text before they escape it', () => {
  const secret = 'Pa_ss!w"o\\d#24';

  function expectNone(text: string, where: string): void {
    for (const [form, value] of Object.entries(forms(secret))) {
      expect(text.includes(value), `${form} in ${where}`).toBe(false);
    }
  }

  it('mdText, code, md, table and programLabel', () => {
    registerSecret(secret);
    expect(mdText(`bad ${secret}`)).toBe('bad &#42;&#42;&#42;');
    expect(code(secret).text).toBe('`***`');
    expect(code(`a|${secret}`).text).toBe('a&#124;&#42;&#42;&#42;');
    expect(md`name ${secret}`.text).toBe('name &#42;&#42;&#42;');
    expectNone(table(['name'], [[secret], [`x ${json(secret)}`]]), 'a table');
    expectNone(programLabel('abc', `Child ${secret}`).text, 'a program label');
    // What is already Markup stays as it was composed.
    expect(mdText(new Markup('**ok**'))).toBe('**ok**');
  });

  it('the JSON report: every string (and key) before JSON.stringify escapes it', () => {
    registerSecret(secret);
    const report = {
      message: `bad ${secret}`,
      [secret]: [secret, { nested: `x${secret}x`, n: 1, ok: true, none: null }],
      date: new Date(0),
    };
    const text = JSON.stringify(redactValue(report), null, 2);
    expectNone(text, 'the report');
    expect(JSON.parse(text)).toEqual({
      message: 'bad ***',
      '***': ['***', { nested: 'x***x', n: 1, ok: true, none: null }],
      date: '1970-01-01T00:00:00.000Z',
    });
  });

  it("DHIS2's own words: redacted before blanks collapse and the text is cut", () => {
    const spaced = 'pass  word  with spaces';
    registerSecret(spaced);
    expect(dhis2Says({ message: `bad ${spaced}` })).toBe('bad ***');
    registerSecret(secret);
    expect(dhis2Says({ message: `${'x'.repeat(395)} ${secret}` })).not.toContain('Pa_s');
  });

  it('a value or a comment cut short never keeps the start of a secret', () => {
    registerSecret(secret);
    const long = `${'x'.repeat(40)}${secret}${'y'.repeat(80)}`;
    expect(formatValue(long)).not.toContain('Pa_s');
    expect(formatValue({ id: 'abc', name: long })).not.toContain('Pa_s');
    expect(shortComment(`${'c'.repeat(92)}${secret}`)).not.toContain('Pa_s');
  });

  it("the CLI's summary: redacted again after character references are decoded", async () => {
    registerSecret(secret);
    const out: string[] = [];
    const reporter = new CliReporter(
      (l) => out.push(l),
      (l) => out.push(l),
      true,
    );
    await reporter.summary(`| a |\n| --- |\n| ${mdText(secret)} |\n\nbad ${markdownText(secret)} and ${json(secret)}`);
    reporter.error(`bad ${secret}`);
    reporter.warning(`bad ${json(secret)}`);
    reporter.setOutput('x', `{"v":"${json(secret)}"}`);
    expectNone(out.join('\n'), 'the CLI output');
    expectNone(reporter.outputs.x!, 'an output');
  });

  it('data written as it is (a program file) is refused, never redacted', () => {
    registerSecret(secret);
    expect(holdsSecret(`{"name":"${json(secret)}"}`)).toBe(true);
    expect(holdsSecret('{"name":"Child"}')).toBe(false);
    expect(() => refuseSecret(`{"name":"${json(secret)}"}`, 'the program')).toThrow(UserError);
    expect(() => refuseSecret('{"name":"Child"}', 'the program')).not.toThrow();
  });

  it('a password in server-url is registered as written and decoded, even when it does not decode', () => {
    expect(() => normaliseServerUrl('https://admin:50%off@dhis2.example.org')).toThrow(/must not contain credentials/);
    expect(redact('x 50%off y')).toBe('x *** y');
    expect(() => normaliseServerUrl('https://admin:P%40ss_w0rd@dhis2.example.org')).toThrow(/credentials/);
    expect(redact('x P@ss_w0rd y P%40ss_w0rd z')).toBe('x *** y *** z');
  });
});
