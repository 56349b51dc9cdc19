/**
 * What a reviewer sees of the data a change would orphan or hide: one sentence per change ("2 events keep the
 * code TWIN, which is no longer an option of GEN - Birth type"), the "Data already collected" section of the
 * comment and the summary, the entries of the report, and the annotation on the changed key's line.
 * Names come from metadata: plain text here, escaped where it is rendered (mdText, the reporter).
 */
import { blocks, cell, code, md, programLabel, table, type Markup } from '../github/markdown.ts';
import type { CountedImpact } from './count.ts';
import { impactTotal, uncounted } from './count.ts';
import type { SourceLocation } from '../errors.ts';
import { records, type ImpactChange, type NamedRef } from './changes.ts';

export interface ProgramImpact {
  program: NamedRef;
  items: CountedImpact[];
}

const nameOf = (r: NamedRef): string => r.name ?? r.id;

const list = (codes: readonly string[]): string => codes.join(', ');

/** What the change is, in a few words (the comment's "change" column). */
export function changeText(i: CountedImpact): string {
  const codes = i.query.codes ?? [];
  const el = nameOf(i.query.element);
  switch (i.change) {
    case 'option-removed':
      return `option${codes.length === 1 ? '' : 's'} ${list(codes)} removed`;
    case 'option-code-changed':
      return codes.map((c, n) => `code ${c} → ${i.detail.newCodes?.[n] ?? '?'}`).join(', ');
    case 'value-type-changed':
      return `valueType ${i.detail.oldValueType ?? '(none)'} → ${i.detail.newValueType ?? '(none)'}${
        i.field.includes('optionSet') ? ', option set changed' : ''
      }`;
    case 'option-set-changed':
      return `option set ${i.detail.oldOptionSet ? nameOf(i.detail.oldOptionSet) : '(none)'} → ${
        i.detail.newOptionSet ? nameOf(i.detail.newOptionSet) : '(none)'
      }`;
    case 'removed-from-stage':
      return `${el} removed from the stage`;
    case 'removed-from-program':
      return `${el} removed from the program`;
  }
}

/** What becomes of the records, as a sentence that starts with their number. */
export function effectText(i: CountedImpact, n: number): string {
  const who = records(n, i.query.kind);
  const one = n === 1;
  const el = nameOf(i.query.element);
  const set = nameOf(i.object);
  const codes = i.query.codes ?? [];
  const where = i.query.programStage ? ` in ${nameOf(i.query.programStage)}` : '';
  const effects: Record<ImpactChange, () => string> = {
    'option-removed': () =>
      codes.length === 1
        ? `${who}${where} ${one ? 'keeps' : 'keep'} the code ${codes[0]} in ${el}, which is no longer an option of ${set}`
        : `${who}${where} ${one ? 'keeps' : 'keep'} one of the codes ${list(codes)} in ${el}, which are no longer options of ${set}`,
    'option-code-changed': () =>
      `${who}${where} ${one ? 'keeps' : 'keep'} the old code ${list(codes)} in ${el}, which no option of ${set} has any more (now ${list(i.detail.newCodes ?? [])})`,
    'value-type-changed': () =>
      `${who}${where} ${one ? 'holds a value' : 'hold values'} of ${el} entered as ${i.detail.oldValueType ?? 'its old type'}, ` +
      `which becomes ${i.detail.newValueType ?? 'another type'}: DHIS2 converts and checks none of them`,
    'option-set-changed': () => {
      const from = i.detail.oldOptionSet;
      const to = i.detail.newOptionSet;
      const verb = one ? 'holds a value' : 'hold values';
      if (from && !to) return `${who}${where} ${verb} of ${el} chosen from ${nameOf(from)}, which ${el} no longer uses`;
      if (!from && to)
        return `${who}${where} ${verb} of ${el} entered without an option set; only codes of ${nameOf(to)} are options now`;
      return `${who}${where} ${verb} of ${el} chosen from ${from ? nameOf(from) : 'its option set'}; its options are now those of ${to ? nameOf(to) : 'another set'}`;
    },
    'removed-from-stage': () =>
      `${who}${where} ${one ? 'holds a value' : 'hold values'} of ${el}, which leaves the stage: the values stay in the database, hidden from the form`,
    'removed-from-program': () =>
      `${who} of the program ${one ? 'holds a value' : 'hold values'} of ${el}, which is no longer one of its attributes: hidden from its forms`,
  };
  return effects[i.change]();
}

/** "Name (uid)" as plain text, for logs and annotations. */
export function programText(p: NamedRef): string {
  return p.name ? `${p.name} (${p.id})` : p.id;
}

/** The line of an item for logs and annotations. */
export function impactLine(programLabelText: string, i: CountedImpact): string {
  if (i.records === null) {
    return `${programLabelText}: could not count the records affected by ${changeText(i)} (${nameOf(i.object)}, ${i.object.id}): ${i.error ?? 'no answer'}`;
  }
  return `${programLabelText}: ${changeText(i)} (${nameOf(i.object)}, ${i.object.id}): ${effectText(i, i.records)}`;
}

/** The report's `dataImpact` entries of one program (interface.md). */
export function reportEntries(p: ProgramImpact) {
  return p.items.map((i) => ({
    program: p.program.id,
    change: i.change,
    object: { collection: i.object.collection, id: i.object.id, ...(i.object.name ? { name: i.object.name } : {}) },
    field: i.field,
    element: {
      collection: i.query.element.collection,
      id: i.query.element.id,
      ...(i.query.element.name ? { name: i.query.element.name } : {}),
    },
    ...(i.query.programStage ? { programStage: i.query.programStage } : {}),
    ...(i.query.codes ? { codes: i.query.codes } : {}),
    kind: i.query.kind,
    records: i.records,
    ...(i.error ? { error: i.error } : {}),
    ...(i.records !== null ? { effect: effectText(i, i.records) } : {}),
    query: i.requests.join(' + '),
  }));
}

/** The `data-impact` output: the records counted, or `unknown` when a count could not be made (never 0 then). */
export function impactOutput(summary: ImpactSummary): string {
  return summary.failed > 0 ? 'unknown' : String(summary.total);
}

/** The gate's one line when it fails on collected data. */
export function impactFailureLine(summary: ImpactSummary): string {
  const parts = [
    summary.total > 0
      ? `${summary.total} record${summary.total === 1 ? '' : 's'} already collected on the server hold${summary.total === 1 ? 's' : ''} data the change would orphan or hide`
      : '',
    summary.failed > 0
      ? `${summary.failed} count${summary.failed === 1 ? '' : 's'} of the records it touches could not be made`
      : '',
  ].filter(Boolean);
  return parts.join(', and ');
}

export interface ImpactSummary {
  /** Records counted over every program (each distinct question once). */
  total: number;
  /** Counts that could not be made. */
  failed: number;
}

export function summarise(programs: readonly ProgramImpact[]): ImpactSummary {
  return {
    total: programs.reduce((n, p) => n + impactTotal(p.items), 0),
    failed: programs.reduce((n, p) => n + uncounted(p.items), 0),
  };
}

/**
 * The "Data already collected" section: empty when no change of the plan touches collected data (nothing was
 * asked); else one row per change with records, and what could not be counted.
 */
export function dataImpactSection(programs: readonly ProgramImpact[], mode: 'fail' | 'warn'): string {
  const asked = programs.filter((p) => p.items.length > 0);
  if (asked.length === 0) return '';
  const { total, failed } = summarise(asked);
  const icon = total === 0 && failed === 0 ? '✅' : mode === 'fail' ? '❌' : '⚠️';
  const headline =
    total === 0 && failed === 0
      ? 'no record on the server holds data this change would orphan or hide'
      : failed > 0
        ? `${failed} count${failed === 1 ? '' : 's'} could not be made, so how many records hold data this change would orphan or hide is unknown` +
          (total > 0 ? ` (at least ${total})` : '')
        : `${total} record${total === 1 ? '' : 's'} on the server hold${total === 1 ? 's' : ''} data this change would orphan or hide`;
  const rows: unknown[][] = [];
  for (const p of asked) {
    for (const i of p.items) {
      if (i.records === 0) continue;
      rows.push([
        programLabel(p.program.id, p.program.name),
        changeText(i),
        programLabel(i.object.id, i.object.name),
        i.records === null ? 'not counted' : records(i.records, i.query.kind),
        i.records === null ? `could not be counted: ${i.error ?? 'no answer'}` : effectText(i, i.records),
      ]);
    }
  }
  const checked = asked.reduce((n, p) => n + p.items.filter((i) => i.records === 0).length, 0); // changes, not requests
  const gate: Markup =
    total === 0 && failed === 0
      ? md``
      : mode === 'fail'
        ? md`The dry run fails on it (${code('data-impact: fail')}); with ${code('data-impact: warn')} it is reported only.`
        : md`Reported only (${code('data-impact: warn')}).`;
  return blocks(
    `#### ${icon} Data already collected: ${cell(headline)}`,
    rows.length > 0
      ? table(['program', 'change', 'object', 'records', 'what becomes of them'], rows, [
          'left',
          'left',
          'left',
          'right',
          'left',
        ])
      : '',
    checked > 0
      ? `${checked} other change${checked === 1 ? '' : 's'} of the plan touch${checked === 1 ? 'es' : ''} no collected record.`
      : '',
    gate,
    'Counted on the server with the credentials of this run: records its user cannot see are not counted.',
  );
}

/**
 * The annotations (on the changed key's line) and the `data-impact` output. With `fail`, each affected change
 * and each count not made is an error; with `warn`, a warning. Answers whether the gate fails.
 */
export function announceDataImpact(
  reporter: {
    error(m: string, at?: SourceLocation): void;
    warning(m: string, at?: SourceLocation): void;
    setOutput(k: string, v: string): void;
  },
  programs: readonly ProgramImpact[],
  mode: 'fail' | 'warn',
  locate: (programId: string, at: CountedImpact['at']) => SourceLocation | undefined,
): ImpactSummary & { fails: boolean } {
  const summary = summarise(programs);
  for (const p of programs) {
    const label = programText(p.program);
    for (const i of p.items) {
      if (i.records === 0) continue;
      const line = impactLine(label, i);
      if (mode === 'fail') reporter.error(line, locate(p.program.id, i.at));
      else reporter.warning(line, locate(p.program.id, i.at));
    }
  }
  reporter.setOutput('data-impact', impactOutput(summary));
  return { ...summary, fails: mode === 'fail' && (summary.total > 0 || summary.failed > 0) };
}
