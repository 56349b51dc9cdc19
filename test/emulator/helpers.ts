/** Test helpers for talking to an emulator over real HTTP. */
import { startEmulator, type Emulator, type EmulatorOptions } from './index.ts';

export const BASIC = `Basic ${Buffer.from('admin:district').toString('base64')}`;

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  json: any;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  auth?: string | null;
  contentType?: string;
  redirect?: 'follow' | 'manual' | 'error';
  /** Extra request headers (e.g. Accept, X-Requested-With). */
  headers?: Record<string, string>;
}

/** fetch(`${emu.url}${path}`) with Basic admin auth and JSON bodies by default. */
export async function call(emu: Emulator, path: string, opts: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const auth = opts.auth === undefined ? BASIC : opts.auth;
  if (auth !== null) headers.Authorization = auth;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] = opts.contentType ?? 'application/json';
  }
  const r = await fetch(`${emu.url}${path}`, {
    method: opts.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    body,
    redirect: opts.redirect ?? 'follow',
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

/** Runs `fn` against a fresh emulator and always closes it. */
export async function withEmulator<T>(options: EmulatorOptions, fn: (emu: Emulator) => Promise<T>): Promise<T> {
  const emu = await startEmulator(options);
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/** The ImportReport inside a POST /api/metadata answer, wrapped or not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
export function reportOf(res: Res): any {
  return res.json?.response ?? res.json;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
export function errorsOf(report: any): { errorCode: string; message: string; mainKlass: string }[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  return (report.typeReports ?? []).flatMap((t: any) => (t.objectReports ?? []).flatMap((o: any) => o.errorReports));
}
