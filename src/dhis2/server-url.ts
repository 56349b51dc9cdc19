import { ConfigError } from '../errors.ts';
import { registerSecret } from '../util/secrets.ts';

export interface NormalisedServerUrl {
  /** Scheme, host, port and context path, no trailing slash, no /api: e.g. https://host/dhis. */
  base: string;
  /** What was changed, for debug lines. */
  notes: string[];
}

/**
 * Accepts `https://host`, `https://host/dhis`, with or without a trailing slash, and also a URL that
 * already ends in /api (a common slip: the interface asks for the base URL), which is cut back to the base.
 */
export function normaliseServerUrl(input: string): NormalisedServerUrl {
  const text = input.trim();
  if (!text) throw new ConfigError('server-url is empty: give the DHIS2 base URL, e.g. https://play.dhis2.org/40');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo it: a password with `#`, `/` or `@` breaks the URL apart, and the pieces are not masked.
    throw new ConfigError(
      'server-url is not a valid URL (not shown: it may hold a secret); expected the DHIS2 base URL, e.g. https://dhis2.example.org',
    );
  }
  if (url.password) {
    // As written (percent-encoded where needed) and decoded; a stray `%` makes it undecodable.
    registerSecret(url.password);
    try {
      registerSecret(decodeURIComponent(url.password));
    } catch {
      // only the form as written
    }
  }
  if (url.username || url.password) {
    // Never echo it: the URL itself holds the secret.
    throw new ConfigError('server-url must not contain credentials (user:password@): use username/password or token');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`server-url must start with http:// or https://, not ${url.protocol}//`);
  }
  if (url.search || url.hash) {
    throw new ConfigError('server-url must not have a query string or fragment (not shown: it may hold a secret)');
  }
  const notes: string[] = [];
  let path = url.pathname.replace(/\/+$/, '');
  if (/\/api$/i.test(path)) {
    path = path.slice(0, -4);
    notes.push(`server-url ends in /api: using ${url.origin}${path} as the base URL (the API is at its /api)`);
  }
  return { base: `${url.origin}${path}`, notes };
}
