/**
 * What the change brings (interface.md, "What the change brings"): a published package often carries
 * expressions DHIS2 calls invalid that run in the field every day, so with `fail-on: new` the gate fails only
 * on the problems the change brings. Pure: the caller says what "before" was (the server's metadata for
 * dry-run, the pull request's base commit for check) and this marks each problem as the change's or not.
 *
 * A problem was already there when, before the change:
 *   - an expression: the same object (type and uid) had exactly the same text and was invalid with the same
 *     severity (an edited expression that is still invalid is the change's; so is an unchanged text that a
 *     change elsewhere, a renamed rule variable say, made invalid);
 *   - a broken reference: the same object had the same broken reference (same key, same missing target).
 */
import type { ReferenceProblem } from './references.ts';
import type { ExpressionVerdict } from './validate-expressions.ts';

export const FAIL_ON = ['new', 'all'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The expression verdicts and broken references of one program before the change. */
export interface ProgramBefore {
  expressions: readonly ExpressionVerdict[];
  references: readonly ReferenceProblem[];
}

/**
 * "Before the change", for the programs of a run. `where` completes "already ..." in messages ("on the
 * server", "at the base commit 1a2b3c4"). Per program: its problems before, `null` when the program did not
 * exist then (all of its problems are the change's), or a string saying why its "before" could not be had
 * (then every problem counts).
 */
export interface Baseline {
  where: string;
  programs: ReadonlyMap<string, ProgramBefore | null | string>;
}

const expressionKey = (v: Pick<ExpressionVerdict, 'type' | 'id' | 'expression'>) =>
  `${v.type}\u0000${v.id}\u0000${v.expression}`;
const referenceKey = (r: ReferenceProblem) => `${r.objectType}\u0000${r.id}\u0000${r.key}\u0000${r.message}`;

export interface Judged {
  /** Per expression (same order): was its problem already there before the change. */
  expressionExisting: boolean[];
  referenceExisting: boolean[];
}

/** Marks which of a program's problems were already there in `before` (nothing is, without a before). */
export function judgeProgram(
  expressions: readonly ExpressionVerdict[],
  references: readonly ReferenceProblem[],
  before: ProgramBefore | null | undefined,
): Judged {
  if (!before) {
    return { expressionExisting: expressions.map(() => false), referenceExisting: references.map(() => false) };
  }
  const invalidBefore = new Map<string, ExpressionVerdict['severity']>();
  for (const v of before.expressions) if (v.severity !== null) invalidBefore.set(expressionKey(v), v.severity);
  const brokenBefore = new Set(before.references.map(referenceKey));
  return {
    expressionExisting: expressions.map(
      (v) => v.severity !== null && invalidBefore.get(expressionKey(v)) === v.severity,
    ),
    referenceExisting: references.map((r) => brokenBefore.has(referenceKey(r))),
  };
}
