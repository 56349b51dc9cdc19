/**
 * The HTTP front of the emulator (node:http only): context path, request log, fault injection, auth,
 * routing, JSON answers. Every API answer is application/json, except the HTML login page and the empty
 * answer of taskSummaries for a job without a summary.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { authenticate, type AuthResult } from './auth.ts';
import { dataStoreRoute } from './datastore.ts';
import { getObject, hasCollection, listCollection, metadataExport, programMetadata, revisionOf } from './export.ts';
import { FilterError, applyFields, parseFields } from './fields.ts';
import { FatalImportError, parseImportParams, runImport, unreadableEnum } from './import.ts';
import { Jobs, NO_CONTENT_TYPE } from './jobs.ts';
import { importReply } from './reports.ts';
import { now, reasonPhrase, webMessage, type EmulatorUser, type Reply, type State } from './state.ts';
import { isObj, type Obj } from './store.ts';
import { getTrackedEntities, getTrackerEvents, postTracker } from './tracker.ts';
import {
  atLeast,
  fatalBodyErrorsAre409,
  hasJobScheduler,
  hasSystemId,
  redirectsToLoginApp,
  rejectsBadTokenChecksum,
} from './version.ts';
import type { Faults } from './faults.ts';
import type { RequestLogEntry } from './types.ts';

export const LOGIN_PATH = '/dhis-web-commons/security/login.action';
/** Where 2.43 sends a request without credentials (real-2.43.1/auth-none-redirect.headers.txt). */
export const LOGIN_APP_PATH = '/login/';

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>DHIS 2</title></head>
<body><form action="../../dhis-web-commons-security/login.action" method="post">
<input type="text" name="j_username" id="j_username"><input type="password" name="j_password" id="j_password">
<input type="submit" value="Sign in"></form></body></html>
`;

/**
 * Tomcat's maxHttpHeaderSize and Jetty's requestHeaderSize both default to 8 KB for the request line and headers
 * together; a longer head is refused (Tomcat 400, Jetty 431; Node answers 431).
 */
export const MAX_REQUEST_HEAD = 8192;

export interface ServerHandle {
  port: number;
  jobs: Jobs;
  close(): Promise<void>;
}

interface Ctx {
  method: string;
  path: string;
  params: URLSearchParams;
  rawBody: string;
  body: unknown;
  contentType: string;
  auth: AuthResult;
  /** The X-Requested-With header. */
  requestedWith: string;
  /** The path as sent (context path included) and the query string as sent, without `?`: tracker pager links. */
  rawPath: string;
  rawQuery: string;
}

export async function startServer(
  state: State,
  faults: Faults,
  log: RequestLogEntry[],
  port: number,
): Promise<ServerHandle> {
  const jobs = new Jobs(state);
  const sockets = new Set<Socket>();

  const server = createServer({ maxHeaderSize: MAX_REQUEST_HEAD }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // A bug in the emulator: answer 500 rather than hang the client.
      if (!res.headersSent) send(res, { ...webMessage(500, `Emulator error: ${String(err)}`) });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const cp = state.contextPath;
    const inContext = cp === '' || url.pathname === cp || url.pathname.startsWith(`${cp}/`);
    const path = inContext ? url.pathname.slice(cp.length) || '/' : url.pathname;
    const auth = authenticate(state, req.headers.authorization);
    const requestedWith = String(req.headers['x-requested-with'] ?? '');
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const ctx: Ctx = {
      rawPath: q < 0 ? rawUrl : rawUrl.slice(0, q),
      rawQuery: q < 0 ? '' : rawUrl.slice(q + 1).replace(/#.*$/, ''),
      method,
      path,
      params: url.searchParams,
      rawBody,
      body: parseBody(rawBody),
      contentType,
      auth,
      requestedWith,
    };
    const entry: RequestLogEntry = {
      method,
      path,
      query: firstValues(url.searchParams),
      status: 0,
      auth: auth.kind,
      ...(rawBody !== '' ? { body: ctx.body } : {}),
    };
    const drop = (): void => {
      log.push(entry);
      req.socket.destroy();
    };
    const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    const fault = faults.pick(method, path);
    const before = fault && (fault.when ?? 'before') === 'before' ? fault : undefined;
    const after = fault && fault.when === 'after' ? fault : undefined;
    if (before?.kind === 'drop') return drop();
    if (before?.kind === 'latency') await wait(before.ms);
    let reply: Reply;
    if (before?.kind === 'status') {
      reply = faultReply(before.status, before.body);
    } else {
      reply = inContext ? route(ctx) : webMessage(404, `Not found: ${url.pathname}`);
      // The request took effect; only its answer is lost, replaced or late.
      if (after?.kind === 'drop') return drop();
      if (after?.kind === 'status') reply = faultReply(after.status, after.body);
      if (after?.kind === 'latency') await wait(after.ms);
    }
    entry.status = reply.status;
    log.push(entry);
    send(res, reply);
  }

  function route(ctx: Ctx): Reply {
    const { method, path } = ctx;
    const loginApp = redirectsToLoginApp(state.version) && (path === LOGIN_APP_PATH || path === '/login');
    if (path === LOGIN_PATH || loginApp) {
      if (method !== 'GET' && method !== 'POST') return notAllowed(method, ['GET', 'POST']);
      // A stand-in page: what matters to a client is that it is HTML with status 200, not an API answer.
      return { status: 200, body: LOGIN_PAGE, contentType: 'text/html;charset=UTF-8' };
    }
    if (!ctx.auth.user) {
      if (ctx.auth.badToken && rejectsBadTokenChecksum(state.version)) {
        // real-2.43.1/auth-bad-token: 400, WWW-Authenticate: ApiToken. The emulator cannot check DHIS2's token
        // checksum, so every token it does not know counts as malformed (as a made-up token is).
        return { ...webMessage(400, 'Checksum validation failed'), headers: { 'WWW-Authenticate': 'ApiToken' } };
      }
      if (
        ctx.auth.kind === 'none' &&
        !state.loginRedirect &&
        redirectsToLoginApp(state.version) &&
        ctx.requestedWith !== 'XMLHttpRequest'
      ) {
        // real-2.43.1/auth-none-redirect (302, empty body, even with Accept: application/json); auth-none-xhr: 401.
        return {
          status: 302,
          headers: { Location: `${state.baseUrl}${LOGIN_APP_PATH}` },
          body: '',
          contentType: NO_CONTENT_TYPE,
        };
      }
      if (state.loginRedirect) {
        return {
          status: 302,
          headers: { Location: `${state.baseUrl}${LOGIN_PATH}` },
          body: '',
          contentType: 'text/html',
        };
      }
      return webMessage(401, 'Unauthorized');
    }
    if (path !== '/api' && !path.startsWith('/api/')) return webMessage(404, `Not found: ${path}`);
    let segments: string[];
    try {
      segments = path
        .slice('/api/'.length)
        .split('/')
        .filter((s) => s !== '')
        .map(decodeURIComponent);
    } catch {
      return webMessage(400, `Malformed path: ${path}`);
    }
    let apiVersion: number | undefined;
    if (segments[0] !== undefined && /^\d{2}$/.test(segments[0])) apiVersion = Number(segments.shift());
    const last = segments.length - 1;
    if (last >= 0 && segments[last]!.endsWith('.json')) segments[last] = segments[last]!.slice(0, -'.json'.length);
    try {
      return api(ctx, segments, apiVersion, ctx.auth.user);
    } catch (err) {
      if (err instanceof FilterError) return webMessage(400, err.message);
      throw err;
    }
  }

  function api(ctx: Ctx, s: string[], apiVersion: number | undefined, user: EmulatorUser): Reply {
    const { method, params } = ctx;
    const only = (allowed: string[], run: () => Reply): Reply =>
      allowed.includes(method) ? run() : notAllowed(method, allowed);
    const [a, b, c, d] = s;
    if (s.length === 2 && a === 'system' && b === 'info') return only(['GET'], () => systemInfo());
    if (s.length === 1 && a === 'me') {
      return only(['GET'], () => {
        const reply = me(user);
        const fields = params.getAll('fields').join(',');
        if (!fields) return reply;
        return { ...reply, body: applyFields(reply.body as Obj, parseFields(fields), () => undefined) };
      });
    }
    if (s.length === 1 && a === 'metadata') {
      return only(['GET', 'POST'], () =>
        method === 'GET' ? metadataExport(state, params) : postMetadata(ctx, apiVersion, user),
      );
    }
    if (s.length === 4 && a === 'system' && (b === 'tasks' || b === 'taskSummaries')) {
      return only(['GET'], () => (b === 'tasks' ? jobs.tasks(c!, d!) : jobs.summary(c!, d!)));
    }
    if (a === 'jobConfigurations' && hasJobScheduler(state.version) && s.length <= 3) {
      if (s.length === 1) return only(['GET'], () => jobs.list(params));
      if (s.length === 2)
        return only(['GET', 'DELETE'], () => (method === 'GET' ? jobs.get(b!, params) : jobs.remove(b!)));
      if (c === 'cancel') return only(['POST'], () => jobs.cancel(b!));
    }
    if (a === 'dataStore') return dataStoreRoute(state, method, s.slice(1), ctx.rawBody);
    if (a === 'tracker' && s.length === 1) return only(['POST'], () => trackerImport(ctx));
    if (a === 'tracker' && s.length === 2 && (b === 'events' || b === 'trackedEntities')) {
      const req = { params, rawPath: ctx.rawPath, rawQuery: ctx.rawQuery };
      return only(['GET'], () => (b === 'events' ? getTrackerEvents(state, req) : getTrackedEntities(state, req)));
    }
    if (s.length === 3 && a === 'programs' && c === 'metadata') {
      return only(['GET'], () => programMetadata(state, b!, params));
    }
    if (a !== undefined && s.length <= 2 && hasCollection(state.store, a)) {
      return only(['GET'], () => (b === undefined ? listCollection(state, a, params) : getObject(state, a, b, params)));
    }
    return webMessage(404, `Not found: /api/${s.join('/')}`);
  }

  function systemInfo(): Reply {
    const at = now();
    if (atLeast(state.version, 42)) return { status: 200, body: recordedSystemInfo(at) };
    return {
      status: 200,
      body: {
        contextPath: state.baseUrl,
        userAgent: 'node',
        calendar: 'iso8601',
        dateFormat: 'yyyy-mm-dd',
        serverDate: at,
        serverTimeZoneId: 'Etc/UTC',
        serverTimeZoneDisplayName: 'Coordinated Universal Time',
        version: state.version.text,
        revision: revisionOf(state),
        buildTime: '2024-01-01T00:00:00.000',
        jasperReportsVersion: '6.20.6',
        environmentVariable: 'DHIS2_HOME',
        readOnlyMode: false,
        nodeId: 'emulator',
        javaVersion: '17.0.10',
        javaVendor: 'Eclipse Adoptium',
        databaseInfo: { spatialSupport: true },
        encryption: false,
        emailConfigured: false,
        redisEnabled: false,
        systemId: state.systemId,
        systemName: 'DHIS 2 emulator',
        instanceBaseUrl: state.baseUrl,
        clusterHostname: '',
        isMetadataVersionEnabled: false,
        metadataSyncEnabled: false,
      },
    };
  }

  /**
   * The keys of real-2.42.5.2/system-info.json and real-2.43.1/system-info.json: 2.43 adds sessionTimeout,
   * capability and systemId (2.42.5.2 has no systemId); readOnlyMode is the string "off".
   */
  function recordedSystemInfo(at: string): Record<string, unknown> {
    const is43 = atLeast(state.version, 43);
    const never = '1970-01-01T00:00:00.000';
    return {
      contextPath: state.baseUrl,
      userAgent: 'node',
      calendar: 'iso8601',
      dateFormat: 'yyyy-mm-dd',
      serverDate: at,
      serverTimeZoneId: 'Etc/UTC',
      ...(is43 ? { sessionTimeout: 3600 } : {}),
      serverTimeZoneDisplayName: 'Coordinated Universal Time',
      lastAnalyticsTableSuccess: never,
      intervalSinceLastAnalyticsTableSuccess: '0 h, 0 m, 0 s',
      lastAnalyticsTableRuntime: '',
      lastSystemMonitoringSuccess: never,
      lastAnalyticsTablePartitionSuccess: never,
      intervalSinceLastAnalyticsTablePartitionSuccess: '0 h, 0 m, 0 s',
      lastAnalyticsTablePartitionRuntime: '',
      databaseInfo: {
        name: 'dhis2',
        user: 'dhis',
        url: 'jdbc:postgresql://127.0.0.1:5432/dhis2',
        databaseVersion: 'PostgreSQL 15',
        spatialSupport: true,
        time: at,
      },
      ...(is43 ? { capability: { analyticsTotalCounts: false } } : {}),
      version: state.version.text,
      revision: revisionOf(state),
      buildTime: '2024-01-01T00:00:00.000',
      jasperReportsVersion: '6.20.0',
      environmentVariable: 'DHIS2_HOME',
      fileStoreProvider: 'filesystem',
      readOnlyMode: 'off',
      nodeId: '',
      javaVersion: '17.0.15',
      javaVendor: 'Debian',
      osName: 'Linux',
      osArchitecture: 'amd64',
      osVersion: 'emulator',
      externalDirectory: '/opt/dhis2',
      readReplicaCount: 0,
      memoryInfo: 'Mem Total in JVM: 1024 Free in JVM: 512 Max Limit: 5120',
      cpuCores: 2,
      encryption: false,
      emailConfigured: false,
      redisEnabled: false,
      ...(hasSystemId(state.version) ? { systemId: state.systemId } : {}),
      systemName: 'DHIS 2 emulator',
      systemMetadataVersion: '',
      instanceBaseUrl: state.baseUrl,
      clusterHostname: '',
      isMetadataVersionEnabled: false,
      lastMetadataVersionSyncAttempt: never,
    };
  }

  function me(user: EmulatorUser): Reply {
    return {
      status: 200,
      body: {
        id: user.id,
        username: user.username,
        name: `${user.username} (emulator)`,
        displayName: `${user.username} (emulator)`,
        firstName: user.username,
        surname: '(emulator)',
        userCredentials: { username: user.username },
        authorities: ['ALL'],
        organisationUnits: [],
        userGroups: [],
        userRoles: [],
        programs: [],
        dataSets: [],
        settings: { keyUiLocale: 'en', keyDbLocale: 'en' },
      },
    };
  }

  /** POST /api/tracker (TrackerImportController consumes application/json): tracker.ts. */
  function trackerImport(ctx: Ctx): Reply {
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(ctx.contentType)) {
      return webMessage(415, `Content type '${ctx.contentType || 'application/octet-stream'}' not supported`);
    }
    if (typeof ctx.body === 'string') return webMessage(400, 'JSON parse error: the request body is not JSON');
    return postTracker(state, ctx.params, ctx.body);
  }

  function postMetadata(ctx: Ctx, apiVersion: number | undefined, user: EmulatorUser): Reply {
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(ctx.contentType)) {
      return webMessage(415, `Content type '${ctx.contentType || 'application/octet-stream'}' not supported`);
    }
    const v = state.version;
    if (!isObj(ctx.body)) {
      if (fatalBodyErrorsAre409(v) && typeof ctx.body === 'string') return fatal(jacksonTokenError(ctx.rawBody));
      return webMessage(400, 'JSON parse error: the request body is not a JSON object');
    }
    const params = parseImportParams(ctx.params);
    const unreadable = fatalBodyErrorsAre409(v) ? unreadableEnum(ctx.body) : undefined;
    // An async import reads its payload in the job ("Loading file content"): what Jackson refuses fails the job.
    if (params.async) return jobs.submit(params, ctx.body, user, unreadable);
    if (unreadable) return fatal(unreadable);
    try {
      return importReply(v, apiVersion, runImport(state, params, ctx.body, user));
    } catch (err) {
      if (err instanceof FatalImportError) return fatal(err.message);
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    jobs,
    close: () =>
      new Promise<void>((resolve) => {
        jobs.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function notAllowed(method: string, allowed: string[]): Reply {
  return {
    ...webMessage(405, `Request method '${method}' is not supported`),
    headers: { Allow: allowed.join(', ') },
  };
}

/**
 * A failure outside the import report (real-2.43.1/import-validate-bad-enum.json, import-validate-not-json.json,
 * import-commit-sendmessage-templateuid.json): 409, status ERROR, only the message; Content-Type without charset.
 */
function fatal(message: string): Reply {
  return { ...webMessage(409, message), contentType: 'application/json' };
}

/** Jackson's message for a body that does not start a JSON value (real-2.43.1/import-validate-not-json.json). */
function jacksonTokenError(raw: string): string {
  const token = /^[^\s{}[\]",:]*/.exec(raw.trimStart())?.[0] || raw.trimStart().slice(0, 1);
  return (
    `Unrecognized token '${token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or ` +
    "'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]"
  );
}

/** nginx's own wording where it differs from the reason phrase (ngx_http_special_response.c). */
const NGINX_TITLES: Record<number, string> = { 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

/** The error page nginx serves for a status it generates (a 502/504 from a proxy in front of DHIS2). */
function nginxErrorPage(status: number): string {
  const title = `${status} ${NGINX_TITLES[status] ?? reasonPhrase(status)}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'
  );
}

function faultReply(status: number, body: string | undefined): Reply {
  if (body === undefined) {
    // A 5xx the client sees is usually the proxy's, not DHIS2's: HTML, not a WebMessage.
    if (status >= 500) return { status, body: nginxErrorPage(status), contentType: 'text/html' };
    return webMessage(status, reasonPhrase(status));
  }
  let json = true;
  try {
    JSON.parse(body);
  } catch {
    json = false;
  }
  return { status, body, contentType: json ? 'application/json;charset=UTF-8' : 'text/plain;charset=UTF-8' };
}

/** Each parameter once, with its first value: what URLSearchParams.get and Servlet getParameter answer. */
function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!Object.hasOwn(out, k)) out[k] = v;
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string' && reply.contentType !== undefined;
  const text = isText ? (reply.body as string) : reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.statusCode = reply.status;
  if (reply.contentType !== NO_CONTENT_TYPE)
    res.setHeader('Content-Type', reply.contentType ?? 'application/json;charset=UTF-8');
  res.setHeader('Cache-Control', 'no-cache, private');
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  res.end(text);
}
