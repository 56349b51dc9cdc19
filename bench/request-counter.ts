/**
 * A counting HTTP proxy for the benchmarks: the measured process talks to it, it forwards every request to the
 * emulator unchanged (bodies streamed, keep-alive to the emulator) and counts them, by method and path with
 * uids folded to `:id`, so that a run can say how many requests it made and of what kind.
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestCounts {
  total: number;
  /** e.g. `GET /api/programs/:id/metadata.json` -> 100. */
  byKind: Record<string, number>;
}

export interface RequestCounter {
  url: string;
  /** The counts since the last take (or the start), and a fresh count from now on. */
  take(): RequestCounts;
  close(): Promise<void>;
}

const UID = /(?<=\/)[A-Za-z][A-Za-z0-9]{10}(?=\/|\.|$)/g;

export function requestKind(method: string, url: string): string {
  const path = url.split('?')[0] ?? '';
  return `${method} ${path.replace(UID, ':id')}`;
}

/** Listens on a free port of 127.0.0.1 and forwards to `target` (e.g. http://127.0.0.1:18123). */
export async function startRequestCounter(target: string): Promise<RequestCounter> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let counts: RequestCounts = { total: 0, byKind: {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const kind = requestKind(req.method ?? 'GET', req.url ?? '/');
    counts.total++;
    counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`request-counter: ${e.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    take() {
      const taken = counts;
      counts = { total: 0, byKind: {} };
      return taken;
    },
    close: () =>
      new Promise<void>((res) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
