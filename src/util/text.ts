/* eslint-disable no-control-regex -- matching control characters is what this file is for */
/**
 * Untrusted text (program, object and backup names, descriptions, DHIS2's error texts, file contents) is
 * data. It reaches three places where characters have power, and each has ONE function here that takes
 * that power away:
 *
 * - the job log: logText(), applied by the reporters to every info/debug/notice/warning/error line. The
 *   runner treats a line starting with `::` (after leading blanks) as a workflow command (`::add-mask::`,
 *   `::set-output`, `::stop-commands::`), and `##[` as the legacy form; a newline inside a name would start
 *   such a line.
 * - Markdown (job summary, PR comment): mdText() in src/github/markdown.ts.
 * - git commit messages: commitLine(), one line (a newline could add a forged `Co-authored-by:` trailer).
 *
 * The CLI additionally strips terminal escape sequences (stripTerminal()) from everything it prints.
 */

/** Line breaks of every kind, as the runner (.NET) and terminals see them. */
const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
/** C0 and C1 control characters (tab and line breaks handled apart), DEL, and bidirectional overrides. */
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One log line: line breaks shown as ` ⏎ `, control characters as `\xNN` (so an ESC sequence prints as text),
 * a leading `::` split (`: :`) and every legacy `##[` broken (`## [`), so no part of it is a workflow command.
 */
export function logText(text: string): string {
  const flat = String(text).replace(LINE_BREAKS, ' ⏎ ').replace(/\t/g, ' ').replace(CONTROLS, visible);
  return flat.replace(/##\[/g, '## [').replace(/^(\s*):(?=:)/, '$1: ');
}

/** A value for a git commit message: one line, no control characters, blanks collapsed. */
export function commitLine(text: string): string {
  return String(text).replace(LINE_BREAKS, ' ').replace(CONTROLS, '').replace(/\s+/g, ' ').trim();
}

/**
 * Escape sequences (CSI `ESC[...`, OSC `ESC]...BEL`, other `ESC x`) and the remaining control characters
 * except newline and tab: what a name could use to rewrite the terminal, set its title or hide text.
 */
export function stripTerminal(text: string): string {
  return String(text)
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '') // OSC ... BEL or ST
    .replace(/(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]/g, '') // CSI
    .replace(/\u001b[P^_X][^\u001b]*(?:\u001b\\)?/g, '') // DCS, PM, APC, SOS ... ST
    .replace(/\u001b[ -/]*[0-~]?/g, '') // any other escape
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}
