/**
 * Inputs and answers that must neither crash nor slip through: one clear error each, nothing echoed that
 * could be a secret or a file's content.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMetadataText, readMetadataFile } from '../../src/plan/metadata-file.ts';
import { normaliseServerUrl } from '../../src/dhis2/server-url.ts';
import { Http } from '../../src/dhis2/http.ts';
import { UserError } from '../../src/errors.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('server-url', () => {
  it.each([
    'https://admin:pa#ss-9f2@dhis2.example.org', // `#` starts the fragment: the URL does not parse
    'https://admin:pa/ss-9f2@dhis2.example.org',
    'dhis2.example.org/?token=pa ss-9f2',
    'https://dhis2.example.org/#pa ss-9f2',
    'https://dhis2.example.org/?pa ss-9f2',
  ])('reports %s without echoing it', (url) => {
    const error = caught(() => normaliseServerUrl(url));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).not.toContain('ss-9f2');
    expect(error.message).not.toContain('admin');
    expect(error.message.split('\n')).toHaveLength(1);
  });
});

describe('the metadata file', () => {
  const ws = () => {
    const w = tempWorkspace();
    cleanup.push(w.remove);
    return w.dir;
  };

  it('reads a file with a UTF-8 byte order mark', () => {
    const dir = ws();
    writeFileSync(join(dir, 'p.json'), `\uFEFF${JSON.stringify({ programs: [{ id: 'IpHINAT79UW', name: 'x' }] })}`);
    expect(readMetadataFile(dir, 'p.json', 'hint').doc.programs).toHaveLength(1);
  });

  it('says where the JSON breaks without quoting the file', () => {
    const secretish = 'Hunter2-s3cr3t-value';
    const error = caught(() => parseMetadataText(`{\n  "programs": [\n    {"id": ${secretish}}\n  ]\n}`, 'p.json'));
    expect(error.message).toBe('p.json is not valid JSON at line 3, column 12: unexpected character');
    expect(error.message).not.toContain('Hunter2');
    expect((error as UserError).location).toEqual({ file: 'p.json', line: 3, column: 12 });
  });

  it('refuses absurd nesting with one clear error, not a stack overflow', () => {
    const deep = `{"programs": [{"id": "a", "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}]}`;
    const error = caught(() => parseMetadataText(deep, 'p.json'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/^p\.json is not valid JSON at line 1, column \d+: nested deeper than 100 levels$/);
  });

  it('a file: that is a folder, or names a NUL byte, is one clear error', () => {
    const dir = ws();
    mkdirSync(join(dir, 'metadata/folder.json'), { recursive: true });
    expect(caught(() => readMetadataFile(dir, 'metadata/folder.json', 'hint')).message).toBe(
      'file "metadata/folder.json" is a folder, not a file',
    );
    const nul = caught(() => readMetadataFile(dir, 'metadata/a\0.json', 'hint'));
    expect(nul).toBeInstanceOf(UserError);
    expect(nul.message).toMatch(/contains a NUL character/);
  });

  it('a NUL byte in the content is a JSON error at its place', () => {
    const error = caught(() => parseMetadataText('{"programs": [{"id": "a\0"}]}', 'p.json'));
    expect(error.message).toBe('p.json is not valid JSON at line 1, column 24: a NUL character in a string');
  });

  it('a collection that is not a list, an entry without id, a twice-used id: errors naming the key and line', () => {
    expect(caught(() => parseMetadataText('{\n"programs": {"id": "a"}\n}', 'p.json')).message).toBe(
      'p.json line 2: "programs" is not a list (a DHIS2 collection is an array of objects)',
    );
    const noId = caught(() => parseMetadataText('{"programs": [\n  {"id": "a"},\n  {"name": "b"}\n]}', 'p.json'));
    expect(noId.message).toBe('p.json line 3: "programs"[1] has no "id"');
    expect((noId as UserError).location).toMatchObject({ file: 'p.json', line: 3 });
    expect(caught(() => parseMetadataText('{"options": [\n  "a"\n]}', 'p.json')).message).toBe(
      'p.json line 2: "options"[0] is not an object',
    );
    const twice = caught(() =>
      parseMetadataText('{"dataElements": [\n  {"id": "a", "name": "x"},\n  {"id": "a", "name": "y"}\n]}', 'p.json'),
    );
    expect(twice.message).toBe('p.json line 3: "dataElements" holds id "a" twice');
    // An export's header keys are not collections.
    expect(() =>
      parseMetadataText('{"system": {"version": "2.41"}, "date": "x", "programs": [{"id": "a"}]}', 'p.json'),
    ).not.toThrow();
  });
});

describe('every DHIS2 request has a hard deadline and a size cap', () => {
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  const http = (server: string, extra: { deadlineMs?: number; maxResponseBytes?: number } = {}) =>
    new Http({ server, timeoutMs: 2_000, retries: 0, retryDelayMs: 1, log: () => {}, ...extra });

  it('a server trickling its answer (each byte resets an idle timeout) is cut off at the deadline', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a": "');
      const timer = setInterval(() => res.write('x'), 100);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await http(url, { deadlineMs: 800 })
      .request({ method: 'GET', path: 'system/info', retry: false })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.message).toBe(
      `${url} did not finish answering GET /api/system/info within 0.8 s (the hard limit for one request)`,
    );
    expect(Date.now() - started).toBeLessThan(1_800);
  });

  it('an answer larger than the cap is stopped, naming the request and the limit', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ big: 'y'.repeat(300_000) }));
    });
    const error = await http(url, { maxResponseBytes: 100_000 })
      .request({ method: 'GET', path: 'metadata', retry: false })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.message).toBe(
      `${url} answered GET /api/metadata with more than 100000 bytes (the size limit for one answer): stopped reading`,
    );
  });
});
