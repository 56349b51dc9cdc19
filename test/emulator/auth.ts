/**
 * Authentication: Basic (the `users` option) and, since 2.37, personal access tokens sent as
 * `Authorization: ApiToken <token>` (d2pat_ tokens up to 2.40, d2p_ from 2.41, which still accepts d2pat_).
 */
import type { EmulatorUser, State } from './state.ts';
import { acceptsToken } from './version.ts';

/** The default token: valid for the default version (2.41.3) and every later one. */
export const DEFAULT_TOKEN = 'd2p_Xq7Rk2VwN9bT4mLs8CzH3fJd6PyG1aUe5oWi0QnBvKt';
/** A pre-2.41 style token: valid on 2.37-2.40 (and on 2.41+, which still accepts the old prefix). */
export const LEGACY_TOKEN = 'd2pat_Lm4Qx8Rt2Vz6Nb1Hc9Jw3Kd7Pf5Gs0Ya2Ue8To4WiEr61234';

export type AuthKind = 'basic' | 'token' | 'none' | 'invalid';

export interface AuthResult {
  kind: AuthKind;
  user?: EmulatorUser;
  /** An ApiToken the server does not accept (2.43 answers 400 "Checksum validation failed" for a made-up one). */
  badToken?: boolean;
}

export function authenticate(state: State, header: string | undefined): AuthResult {
  if (!header) return { kind: 'none' };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const credentials = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid' };
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const user = state.users.find((u) => u.username === username && u.password === password);
    return user ? { kind: 'basic', user } : { kind: 'invalid' };
  }
  if (scheme === 'apitoken') {
    const ok = state.tokens.includes(credentials) && acceptsToken(state.version, credentials);
    return ok ? { kind: 'token', user: state.users[0] } : { kind: 'invalid', badToken: true };
  }
  return { kind: 'invalid' };
}
