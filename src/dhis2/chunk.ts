import { Dhis2Error } from '../errors.ts';
import { encodeQueryComponent } from './query.ts';

/**
 * Splits `ids` into as few consecutive chunks as possible such that `urlFor(chunk)` stays within
 * `maxLength` characters (servers and proxies answer 414, or drop the request, past about 8 KB).
 *
 * `urlFor` must put the chunk into the URL as one comma-separated query value, e.g.
 * `filter=id:in:[a,b,c]`: each id then costs its encoded length plus one comma, which lets the split run
 * in linear time. Every chunk is still measured for real, and split further if the estimate was short.
 */
export function chunkByUrlLength(
  ids: readonly string[],
  urlFor: (chunk: string[]) => string,
  maxLength: number,
): string[][] {
  if (ids.length === 0) return [];
  const fixed = urlFor([]).length;
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = fixed;
  for (const id of ids) {
    const cost = encodeQueryComponent(id).length + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && length + cost > maxLength) {
      chunks.push(current);
      current = [];
      length = fixed;
    }
    length += encodeQueryComponent(id).length + (current.length > 0 ? 1 : 0);
    current.push(id);
  }
  chunks.push(current);
  return chunks.flatMap((chunk) => verified(chunk, urlFor, maxLength));
}

function verified(chunk: string[], urlFor: (chunk: string[]) => string, maxLength: number): string[][] {
  const length = urlFor(chunk).length;
  if (length <= maxLength) return [chunk];
  if (chunk.length === 1) {
    throw new Dhis2Error(
      `cannot request id "${chunk[0]}": its URL alone is ${length} characters, over the limit of ${maxLength}`,
    );
  }
  const half = Math.ceil(chunk.length / 2);
  return [...verified(chunk.slice(0, half), urlFor, maxLength), ...verified(chunk.slice(half), urlFor, maxLength)];
}
