import pLimit from 'p-limit';
import { isUserError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';

/**
 * Runs `work` for each program, `concurrency` at a time, results in config order. A UserError fails only
 * that program: it gets one ::error:: line naming it (annotated where the error points), and `failed`
 * makes its report row; the others carry on. Anything else is a bug and ends the run.
 */
export async function eachProgram<T extends { entry: { id: string } }, R>(
  items: readonly T[],
  reporter: Reporter,
  concurrency: number,
  work: (item: T) => Promise<R>,
  failed: (item: T, message: string) => R,
): Promise<R[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    items.map((item) =>
      limit(async () => {
        try {
          return await work(item);
        } catch (e) {
          if (!isUserError(e)) throw e;
          reporter.error(`program ${item.entry.id}: ${e.message}`, e.location.file ? e.location : undefined);
          return failed(item, e.message);
        }
      }),
    ),
  );
}
