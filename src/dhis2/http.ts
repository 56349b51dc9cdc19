/**
 * The one place that talks HTTP to DHIS2: JSON only, no redirects followed, retries with exponential
 * backoff and jitter where the caller says a retry is safe, and every failure turned into a Dhis2Error
 * whose one line says what happened and what to check. Nothing here ever puts a credential into a
 * message or log line: the Authorization header lives only in the axios config, which is never shown.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { AxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
import axiosRetry, { exponentialDelay } from 'axios-retry';
import type { Auth } from '../config/types.ts';
import { Dhis2Error } from '../errors.ts';
import { redact, registerBasicAuth, registerSecret } from '../util/secrets.ts';
import { describeNetworkError, describeStatus, loginPageMessage, oneLine, type RequestContext } from './errors.ts';
import { withQuery, type QueryParams } from './query.ts';
import { checkServerDepth } from '../metadata/assemble.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpOptions {
  /** Normalised base URL (no /api, no trailing slash). */
  server: string;
  auth?: Auth;
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Base of the exponential backoff: retry n waits about retryDelayMs * 2^(n-1), plus jitter. */
  retryDelayMs: number;
  log: (message: string) => void;
  /**
   * Hard limit for one attempt, from sending to the last byte of the answer (timeoutMs is axios's idle
   * timeout, which every byte resets: a server trickling its answer would never hit it). Default 5 x timeoutMs.
   */
  deadlineMs?: number;
  /** Largest answer read, in bytes; a bigger one is cut off with an error. Default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** 256 MB: far above the largest program export, far below what would exhaust the runner's memory. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface HttpRequest {
  method: Method;
  /** Relative to /api, e.g. `system/info`; a leading slash or `/api/` prefix is tolerated. */
  path: string;
  query?: QueryParams;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * May this request be sent again after a 502/503/504/429 or a dropped connection? Only when repeating it
   * cannot change the outcome (see the callers for each case).
   */
  retry: boolean;
  /** Transient statuses that are still not retried for this request, and why (for the message). */
  noRetryStatuses?: readonly number[];
  /**
   * Retry only failures where the server certainly did not act on the request: the connection was refused
   * (or the name did not resolve) before anything was sent, or the server answered 429/503 (not taken).
   * A reset, a hang-up or a 502/504 after sending may come after the server started working on it.
   */
  unsentOnly?: boolean;
  noRetryReason?: string;
  /** Non-2xx statuses the caller reads itself (e.g. 404 on a dataStore get, 409 on a metadata import). */
  expect?: readonly number[];
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON; undefined for an empty body (or a non-JSON body on an expected error status). */
  body: unknown;
}

/** Answers that mean "not now" rather than "no": the same request may work a moment later. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Connection failures where the server never produced an answer. ECONNREFUSED covers a server that is still
 * starting; ECONNRESET/EPIPE/"socket hang up" a dropped connection (proxy restart, idle keep-alive socket
 * closed by the server); ETIMEDOUT the operating system giving up on connecting. Our own timeout
 * (ECONNABORTED) is not here: a request that took timeoutMs once would most likely take it again, and the
 * server may still be working on it.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

const FRESH_HTTP = new HttpAgent({ keepAlive: false });
const FRESH_HTTPS = new HttpsAgent({ keepAlive: false });

/** Longest wait between two attempts, whatever the backoff or a Retry-After header says. */
const MAX_RETRY_DELAY_MS = 30_000;

const LOGIN_LOCATION = /login|logon|sign-?in|\/security\/|dhis-web-commons/i;

export function isTransientFailure(error: AxiosError): boolean {
  if (error.response) return TRANSIENT_STATUSES.has(error.response.status);
  if (error.code && TRANSIENT_CODES.has(error.code)) return true;
  return /socket hang up/i.test(error.message);
}

export class Http {
  readonly server: string;
  readonly log: (message: string) => void;
  private readonly axios: AxiosInstance;
  private readonly options: HttpOptions;
  private readonly deadlineMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: HttpOptions) {
    this.options = options;
    this.deadlineMs = options.deadlineMs ?? options.timeoutMs * 5;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.server = options.server;
    this.log = (message) => options.log(redact(message));
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'dhis2-metadata-action',
    };
    const authorization = authorizationHeader(options.auth);
    if (authorization) headers.Authorization = authorization;

    this.axios = axios.create({
      timeout: options.timeoutMs,
      // A redirect from an API URL is a login page or a wrong URL: report it instead of following it, which
      // would also carry the credentials to wherever it points.
      maxRedirects: 0,
      // Read text and parse it ourselves, so that an HTML page never surfaces as a JSON parse error.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      // Bodies are serialised by request() already; retries must resend the same bytes.
      transformRequest: [(data: unknown) => data],
      // Only transient statuses reject (that is what triggers a retry); all others are read by interpret().
      validateStatus: (status) => !TRANSIENT_STATUSES.has(status),
      maxBodyLength: Infinity,
      maxContentLength: this.maxResponseBytes,
      headers,
    });
    // Every attempt (a retry too: axios-retry sends it through the interceptors again) gets its own deadline.
    this.axios.interceptors.request.use((config) => {
      config.signal = AbortSignal.timeout(this.deadlineMs);
      return config;
    });

    axiosRetry(this.axios, {
      retries: options.retries,
      // Each attempt gets the full timeoutMs.
      shouldResetTimeout: true,
      retryCondition: isTransientFailure,
      retryDelay: (retryNumber, error) => {
        // axios-retry's exponentialDelay: base * 2^n plus 0-20% random jitter, and at least any Retry-After.
        const delay = Math.round(
          Math.min(exponentialDelay(retryNumber - 1, error, options.retryDelayMs), MAX_RETRY_DELAY_MS),
        );
        const ctx = this.contextOf(error.config?.method, error.config?.url);
        this.log(`${this.problemOf(error, ctx)}; retry ${retryNumber} of ${options.retries} in ${delay} ms`);
        return delay;
      },
    });
  }

  /** The absolute URL of an API path with its query. */
  url(path: string, query?: QueryParams): string {
    const relative = path.replace(/^\/+/, '').replace(/^api\//, '');
    return withQuery(`${this.server}/api/${relative}`, query);
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.url(req.path, req.query);
    const ctx = this.contextOf(req.method, url);
    const started = Date.now();
    let response: AxiosResponse<string>;
    try {
      response = await this.axios.request<string>({
        method: req.method,
        url,
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
        headers: req.body === undefined ? {} : { 'Content-Type': 'application/json' },
        // A request that may only be retried when it was never sent goes on a new connection: on a reused
        // keep-alive socket that the server closed while idle, a reset would come before sending, but
        // could not be told apart from one after.
        ...(req.unsentOnly ? { httpAgent: FRESH_HTTP, httpsAgent: FRESH_HTTPS } : {}),
        'axios-retry': {
          retries: req.retry ? this.options.retries : 0,
          retryCondition: (error) => isTransientFailure(error) && !excluded(error, req),
        },
      });
    } catch (error) {
      throw this.failure(error, req, ctx);
    }
    this.log(`${req.method} ${shortUrl(url)} -> ${response.status} (${Date.now() - started} ms)`);
    return this.interpret(response, req, ctx);
  }

  private interpret(response: AxiosResponse<string>, req: HttpRequest, ctx: RequestContext): HttpResponse {
    const status = response.status;
    const text = typeof response.data === 'string' ? response.data : '';
    const contentType = String(response.headers['content-type'] ?? '');

    if (status >= 300 && status < 400) {
      const location = String(response.headers.location ?? '');
      if (!location || LOGIN_LOCATION.test(location)) throw new Dhis2Error(loginPageMessage(this.server), status);
      throw new Dhis2Error(
        `${this.server} redirected ${ctx.method} ${ctx.path} to ${redact(location)} (HTTP ${status}): ` +
          'if DHIS2 lives there, use that address as server-url',
        status,
      );
    }

    const html = isHtml(contentType, text);
    const ok = status >= 200 && status < 300;
    if (ok) {
      if (html) throw new Dhis2Error(htmlMessage(this.server, text), status);
      return { status, body: this.parseJson(text, contentType, ctx, status) };
    }
    const body = html ? undefined : parseLenient(text);
    // An expected status counts only when DHIS2 itself said it: an HTML 404 from a proxy in front of a
    // wrong path must not read as "this key does not exist" (a backup would then create it anew).
    if (req.expect?.includes(status) && !html) return { status, body };
    if (html && (status === 401 || status === 403) && /login/i.test(text)) {
      throw new Dhis2Error(loginPageMessage(this.server), status);
    }
    throw new Dhis2Error(redact(describeStatus(status, body, ctx)), status);
  }

  private parseJson(text: string, contentType: string, ctx: RequestContext, status: number): unknown {
    if (text.trim() === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      const type = contentType ? ` (${contentType.split(';')[0]})` : '';
      throw new Dhis2Error(
        `${this.server} answered ${ctx.method} ${ctx.path} with something that is not JSON${type}: ` +
          'is server-url the base URL of a DHIS2 server?',
        status,
      );
    }
    // Every answer, once, before anything walks it (the walks over server JSON are recursive).
    checkServerDepth(parsed, `${ctx.method} ${ctx.path}`);
    return parsed;
  }

  private failure(error: unknown, req: HttpRequest, ctx: RequestContext): Dhis2Error {
    if (error instanceof Dhis2Error) return error;
    if (!(error instanceof AxiosError)) {
      const message = error instanceof Error ? error.message : String(error);
      return new Dhis2Error(redact(oneLine(`${ctx.method} ${ctx.path} on ${this.server} failed: ${message}`)));
    }
    const problem = this.problemOf(error, ctx);
    const retryState = error.config?.['axios-retry'];
    const attempts = (retryState?.retryCount ?? 0) + 1;
    const transient = isTransientFailure(error);
    let message = problem;
    if (transient && attempts > 1 && !excluded(error, req)) message = `gave up after ${attempts} attempts: ${problem}`;
    else if (transient && this.options.retries > 0 && excluded(error, req)) {
      message = `${problem} (not retried: ${req.noRetryReason ?? 'sending this request twice is not safe'})`;
    } else if (transient && this.options.retries > 0 && !req.retry) {
      message = `${problem} (not retried: sending this request twice is not safe)`;
    }
    this.log(`${ctx.method} ${ctx.path} failed: ${message}`);
    return new Dhis2Error(redact(oneLine(message)), error.response?.status);
  }

  private problemOf(error: AxiosError, ctx: RequestContext): string {
    const request = `${ctx.method} ${ctx.path}`;
    if (error.code === 'ERR_CANCELED') {
      const importing = ctx.method === 'POST' && /metadata/.test(ctx.path);
      return (
        `${this.server} did not finish answering ${request} within ${seconds(this.deadlineMs)} (the hard limit for one request)` +
        (importing ? ': the import may still be running there; check it before running again' : '')
      );
    }
    if (/maxContentLength size of/i.test(error.message)) {
      return `${this.server} answered ${request} with more than ${megabytes(this.maxResponseBytes)} (the size limit for one answer): stopped reading`;
    }
    if (error.response) {
      const data = error.response.data;
      return describeStatus(error.response.status, typeof data === 'string' ? parseLenient(data) : data, ctx);
    }
    return describeNetworkError({ code: error.code, message: error.message }, ctx);
  }

  private contextOf(method: string | undefined, url: string | undefined): RequestContext {
    let path = url ?? '';
    try {
      path = new URL(path).pathname;
    } catch {
      // keep what we have
    }
    return {
      server: this.server,
      method: (method ?? 'GET').toUpperCase(),
      path,
      usesToken: this.options.auth?.kind === 'token',
      timeoutMs: this.options.timeoutMs,
    };
  }
}

/** Builds the Authorization header value and registers everything secret in it. */
export function authorizationHeader(auth: Auth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.kind === 'token') {
    registerSecret(auth.token);
    return `ApiToken ${auth.token}`;
  }
  // The password, and `user:password` in base64 (the header's value), each in every form it can take.
  return `Basic ${registerBasicAuth(auth.username, auth.password)}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MB` : `${bytes} bytes`;
}

function excluded(error: AxiosError, req: HttpRequest): boolean {
  const status = error.response?.status;
  if (req.unsentOnly) {
    if (status !== undefined) return status !== 429 && status !== 503;
    return error.code !== 'ECONNREFUSED' && error.code !== 'EAI_AGAIN';
  }
  return status !== undefined && (req.noRetryStatuses?.includes(status) ?? false);
}

function isHtml(contentType: string, text: string): boolean {
  return /html/i.test(contentType) || /^\s*</.test(text);
}

function htmlMessage(server: string, text: string): string {
  if (/login|j_username|password/i.test(text)) return loginPageMessage(server);
  return `authentication failed: ${server} answered with an HTML page instead of JSON (wrong credentials, or not a DHIS2 API URL)`;
}

function parseLenient(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** URLs in debug lines: the query cut short (a chunked id list is thousands of characters). */
function shortUrl(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}... (${url.length} chars)` : url;
}
