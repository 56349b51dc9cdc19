/**
 * What an HTTP status or a network failure means for someone running this tool, in one line that says what
 * to check. Messages name the server and the request, never credentials (they are never in a URL we build,
 * and every message still passes through redact()).
 */
import { redact } from '../util/secrets.ts';
import { isRecord } from './json.ts';

export interface RequestContext {
  /** The server's base URL, e.g. https://host/dhis. */
  server: string;
  method: string;
  /** Path from the server root without the query, e.g. /api/system/info. */
  path: string;
  /** The credentials are a personal access token (changes the 401 hint). */
  usesToken: boolean;
  timeoutMs: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusLabel(status: number): string {
  const text = STATUS_TEXT[status];
  return text ? `HTTP ${status} ${text}` : `HTTP ${status}`;
}

export function loginPageMessage(server: string): string {
  return `authentication failed: ${server} redirected to its login page (wrong credentials, or not a DHIS2 API URL)`;
}

/** The message of an HTTP error answer, with DHIS2's own explanation when the body is a WebMessage. */
export function describeStatus(status: number, body: unknown, ctx: RequestContext): string {
  return oneLine(describeStatusLines(status, body, ctx));
}

function describeStatusLines(status: number, body: unknown, ctx: RequestContext): string {
  const request = `${ctx.method} ${ctx.path}`;
  const label = statusLabel(status);
  const said = dhis2Says(body);
  const detail = said ? `: ${said}` : '';
  switch (status) {
    case 401:
      return (
        `the username/password (or token) was refused by ${ctx.server} (${label})` +
        (ctx.usesToken ? '; personal access tokens need DHIS2 2.37 or newer and must not be expired' : '')
      );
    case 403:
      return `${ctx.server} refused ${request} (${label}): the user is signed in but lacks the authority or sharing access for it${detail}`;
    case 404:
      return `${ctx.server} has no ${ctx.path} (${label})${detail}`;
    case 405:
    case 501:
      return `${ctx.server} does not support ${request} (${label}): is the DHIS2 version too old for this?${detail}`;
    case 409:
      return `${ctx.server} refused ${request} (${label})${detail}`;
    case 413:
      return `${ctx.server} (or a proxy in front of it) refused ${request} as too large (${label}): raise the proxy's request body limit (nginx client_max_body_size)${detail}`;
    case 414:
      return `the URL of ${request} is too long for ${ctx.server} (${label})`;
    case 429:
      return `${ctx.server} is rate limiting requests (${label}): try again later`;
    case 502:
    case 503:
    case 504:
      return `${ctx.server} is unavailable (${label} on ${request}): the server may be starting, restarting or overloaded, or the proxy in front of it cannot reach it`;
    default:
      if (status >= 500) {
        return `${ctx.server} failed on ${request} (${label}): a server-side error, see the DHIS2 log${detail}`;
      }
      if (status >= 400) return `${ctx.server} rejected ${request} (${label})${detail}`;
      return `${ctx.server} answered ${request} with an unexpected ${label}${detail}`;
  }
}

export interface NetworkFailure {
  code?: string;
  message: string;
}

/**
 * Every message, one line: an error is one annotation and one log line. Node's TLS errors carry OpenSSL's
 * text with a line break at the end, and a proxy's error page can hold several.
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * TLS spoken to something that answers in plain text: `https://` to an http port. OpenSSL says "wrong
 * version number" (or "packet length too long", "http request") when the first bytes back are not TLS.
 */
function notTls(err: NetworkFailure): boolean {
  return (
    /wrong version number|packet length too long|ssl3_get_record|http request|unknown protocol/i.test(err.message) ||
    /WRONG_VERSION_NUMBER|HTTP_REQUEST|PACKET_LENGTH_TOO_LONG/i.test(err.code ?? '')
  );
}

/** Connection-level failures (no HTTP answer at all), in one line. */
export function describeNetworkError(err: NetworkFailure, ctx: RequestContext): string {
  return oneLine(describeNetwork(err, ctx));
}

function describeNetwork(err: NetworkFailure, ctx: RequestContext): string {
  const { host, hostPort } = hostOf(ctx.server);
  const code = err.code ?? '';
  const request = `${ctx.method} ${ctx.path}`;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(err.message)) {
    const importing = ctx.method === 'POST' && /metadata/.test(ctx.path);
    return importing
      ? `${ctx.server} did not answer ${request} within ${formatSeconds(ctx.timeoutMs)}: the import may still be running there; check it before running again`
      : `${ctx.server} did not answer ${request} within ${formatSeconds(ctx.timeoutMs)}: the server may be overloaded or the request too large`;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${hostPort} (${ctx.server}): is DHIS2 running there, and are the host and port in server-url right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name ${host} of ${ctx.server} (${code}): check server-url and the network/DNS of this machine`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${hostPort} of ${ctx.server} (${code}): check server-url, the network and any firewall in between`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection to ${hostPort} was dropped before ${request} was answered (${code}): the server or a proxy closed it`;
    case 'ERR_INVALID_URL':
      return `invalid server URL ${ctx.server}`;
  }
  if (notTls(err)) {
    return (
      `the server does not speak https on this port: ${hostPort} answered ${request} in plain text, not TLS ` +
      `(${ctx.server}); use http:// in server-url, or the port that serves https`
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/i.test(code)) {
    return `the TLS certificate of ${host} is not trusted (${code}): fix the certificate, or add its CA with NODE_EXTRA_CA_CERTS`;
  }
  if (/socket hang up/i.test(err.message)) {
    return `the connection to ${hostPort} was dropped before ${request} was answered (socket hang up): the server or a proxy closed it`;
  }
  return `cannot reach ${ctx.server} for ${request} (${code || 'network error'}: ${redact(oneLine(err.message))})`;
}

/** DHIS2's own words from a WebMessage body ({message, response: {errorReports: [...]}}), shortened. */
export function dhis2Says(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const parts: string[] = [];
  if (typeof body.message === 'string' && body.message.trim()) parts.push(body.message.trim());
  const response = body.response;
  if (isRecord(response) && Array.isArray(response.errorReports)) {
    for (const report of response.errorReports.slice(0, 3)) {
      if (isRecord(report) && typeof report.message === 'string') parts.push(report.message);
    }
  }
  if (parts.length === 0) return undefined;
  // Redacted before blanks collapse and before it is cut: either could hide a secret from redact().
  const text = redact(parts.join('; ')).replace(/\s+/g, ' ');
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

function hostOf(server: string): { host: string; hostPort: string } {
  try {
    const url = new URL(server);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return { host: url.hostname, hostPort: `${url.hostname}:${port}` };
  } catch {
    return { host: server, hostPort: server };
  }
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
