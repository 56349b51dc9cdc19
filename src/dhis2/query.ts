/**
 * Query strings built by hand, so that the URL whose length the chunker measures is byte for byte the URL
 * that is sent (axios would otherwise re-encode it its own way).
 */
export type QueryValue = string | number | boolean | undefined;
export type QueryParams = Record<string, QueryValue | QueryValue[]>;

/**
 * Percent-encodes like encodeURIComponent, but leaves `:` and `,` alone: both are legal in a query
 * (RFC 3986 section 3.4) and DHIS2 filters are full of them (`id:in:[a,b]`), so keeping them short keeps
 * more ids per request. `[` and `]` stay encoded: Tomcat rejects them raw unless relaxedQueryChars is set.
 */
export function encodeQueryComponent(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/** `a=1&b=x&b=y`; undefined values are left out, arrays repeat the key. */
export function buildQuery(params: QueryParams | undefined): string {
  if (!params) return '';
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(params)) {
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (value === undefined) continue;
      parts.push(`${encodeQueryComponent(key)}=${encodeQueryComponent(String(value))}`);
    }
  }
  return parts.join('&');
}

export function withQuery(url: string, params: QueryParams | undefined): string {
  const query = buildQuery(params);
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}
