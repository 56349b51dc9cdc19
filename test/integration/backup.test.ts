import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mdText } from '../../src/github/markdown.ts';
import { toFileShape } from '../../src/metadata/assemble.ts';
import { canonicalJson } from '../../src/metadata/canonical.ts';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { runAction } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- DHIS2 JSON

const NS = 'programconfigapp_backups';
const FIXTURE: Doc = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/made/pca_backup_record.json'), 'utf8'),
);
const PROGRAM = FIXTURE.metadata.programs[0].id as string; // wriKFoFj7Fw, "Malaria follow-up (PCA backup fixture)"
const COVAC = 'yDuAzyqYABS';
const PASSWORD = 'Pw-backup-51c3-never-printed';

let emulator: Emulator;
let cleanup: (() => void)[] = [];

async function start(version?: string): Promise<void> {
  emulator = await startEmulator({ version, users: [{ username: 'keeper', password: PASSWORD }] });
}
beforeEach(async () => {
  await start();
});
afterEach(async () => {
  await emulator.close();
  cleanup.forEach((f) => f());
  cleanup = [];
});

const creds = () => ({ 'server-url': emulator.url, username: 'keeper', password: PASSWORD });

function workspace(programs: string[] = [PROGRAM]): string {
  const ws = tempWorkspace({
    'dhis2-metadata.yml': `target: another-server\nprograms:\n${programs.map((p) => `  - id: ${p}\n`).join('')}`,
  });
  cleanup.push(ws.remove);
  return ws.dir;
}

// A GitHub-hosted runner runs in UTC; the tests pin it so that dates can be checked.
const run = (command: string, dir: string, extra: Record<string, string> = {}) =>
  runAction({ command, ...creds(), ...extra }, { workspace: dir, env: { TZ: 'UTC' } });

async function api(path: string, init: RequestInit = {}): Promise<Doc> {
  const res = await fetch(`${emulator.url}/api/${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(`keeper:${PASSWORD}`).toString('base64')}`,
      'content-type': 'application/json',
    },
  });
  return (await res.json()) as Doc;
}

const importMetadata = (doc: Doc, importMode: 'VALIDATE' | 'COMMIT') =>
  api(`metadata?importMode=${importMode}`, { method: 'POST', body: JSON.stringify(doc) });

/** The fixture's program on the server, as if the app's backup had been made there. */
async function seedFixtureProgram(): Promise<void> {
  const report = await importMetadata(FIXTURE.metadata, 'COMMIT');
  expect((report.response ?? report).status).toBe('OK');
}

const stored = (program = PROGRAM): Doc | undefined => emulator.dataStore.get(NS)?.get(program) as Doc | undefined;
const storedBackups = (program = PROGRAM): Doc[] => stored(program)?.backups ?? [];
function putBackups(backups: Doc[], program = PROGRAM): void {
  if (!emulator.dataStore.has(NS)) emulator.dataStore.set(NS, new Map());
  emulator.dataStore.get(NS)!.set(program, { backups });
}

/** Path -> JSON type of every value (objects keyed by ids, like sharing's users, count as one value). */
function shape(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    out.set(path, 'array');
    value.forEach((v) => shape(v, `${path}[]`, out));
  } else if (value !== null && typeof value === 'object') {
    out.set(path, 'object');
    for (const [k, v] of Object.entries(value)) {
      if (['users', 'userGroups', 'system'].includes(k)) out.set(`${path}.${k}`, 'object');
      else shape(v, `${path}.${k}`, out);
    }
  } else out.set(path, value === null ? 'null' : typeof value);
  return out;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}
const requestsTo = (method: string, path: string) =>
  emulator.requests.filter((r) => r.method === method && r.path === path).length;
const KEY_PATH = `/api/dataStore/${NS}/${PROGRAM}`;

describe('backup', () => {
  it('writes a record of exactly the app shape (the hand-made app record) with the app defaults', async () => {
    await seedFixtureProgram();
    const dir = workspace();
    const before = Date.now();
    const result = await run('backup', dir);
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);

    const backups = storedBackups();
    expect(backups).toHaveLength(1);
    const record = backups[0]!;
    expect(Object.keys(stored()!)).toEqual(['backups']);
    // Same keys in the same order, same types, and the metadata field by field.
    expect(Object.keys(record)).toEqual(Object.keys(FIXTURE));
    for (const key of Object.keys(FIXTURE)) expect(typeof record[key], key).toBe(typeof FIXTURE[key]);
    expect([...shape(record.metadata)].sort()).toEqual([...shape(FIXTURE.metadata)].sort());

    // The app's defaults: epoch ms id, name = 30 characters of the program name + the time, the program version.
    expect(record.id).toBeGreaterThanOrEqual(before);
    expect(record.id).toBeLessThanOrEqual(Date.now());
    const utc = new Date(record.id).toISOString(); // TZ=UTC: local time is UTC
    expect(record.backup_date).toBe(`${utc.slice(0, 10)} ${utc.slice(11, 19)}`);
    expect(record.name).toBe(`Malaria follow-up (PCA backup _${record.backup_date.replace(/[-:]/g, '_')}`);
    expect(record.name).toHaveLength(50);
    expect(record.version).toBe('3');
    expect(record.comment).toBe('');

    expect(JSON.parse(result.outputs.backups ?? '')).toEqual([
      { programId: PROGRAM, id: record.id, name: record.name, version: '3', date: record.backup_date, comment: '' },
    ]);
    // Names are shown through mdText: inert Markdown that renders as the name itself.
    expect(result.summary).toContain(mdText(record.name));
    expect(result.summary).toContain(NS);
    expect(result.summary).not.toContain('Datastore Manager'); // far from the size warning
    expect(JSON.parse(readFileSync(result.outputs.report!, 'utf8')).programs[0].backup.id).toBe(record.id);
    expect(result.everything).not.toContain(PASSWORD);
  });

  it('stores the given name, version and comment, after the backups already there', async () => {
    putBackups([FIXTURE]);
    await seedFixtureProgram();
    const result = await run('backup', workspace(), {
      'backup-name': 'before release 2.0',
      'backup-version': '2.0-rc1',
      'backup-comment': 'taken by the release workflow',
    });
    expect(result.code).toBe(0);
    const backups = storedBackups();
    expect(backups[0]).toEqual(FIXTURE);
    expect(backups[1]).toMatchObject({
      name: 'before release 2.0',
      version: '2.0-rc1',
      comment: 'taken by the release workflow',
    });
  });

  it('refuses a name over 50 characters, saying the limit, before writing anything', async () => {
    const result = await run('backup', workspace([COVAC]), { 'backup-name': 'n'.repeat(51) });
    expect(result.code).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/backup-name is 51 characters long; the Program Config App allows at most 50/);
    expect(result.stdout).not.toMatch(/\n\s+at /); // no stack trace
    expect(emulator.dataStore.has(NS)).toBe(false);
  });

  it('requires a version when the program has none', async () => {
    const program = emulator.store.get('programs', COVAC)!;
    delete program.version;
    emulator.store.put('programs', program);
    const dir = workspace([COVAC]);
    const missing = await run('backup', dir);
    expect(missing.code).toBe(1);
    expect(missing.errors.join('\n')).toMatch(/backup-version is required/);
    expect(emulator.dataStore.has(NS)).toBe(false);
    const given = await run('backup', dir, { 'backup-version': '1' });
    expect(given.code).toBe(0);
    expect(storedBackups(COVAC).map((b) => b.version)).toEqual(['1']);
  });

  it('a program that does not exist fails the step, and nothing is written', async () => {
    const result = await run('backup', workspace(['AbCdEfGhIj1']));
    expect(result.code).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/program AbCdEfGhIj1 does not exist/);
    expect(emulator.dataStore.has(NS)).toBe(false);
  });

  it('never overwrites a key that does not hold the app shape', async () => {
    emulator.dataStore.set(NS, new Map([[COVAC, ['something', 'else']]]));
    const result = await run('backup', workspace([COVAC]));
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toMatch(/holds a list, not the Program Config App's \{"backups": \[\.\.\.\]\}/);
    expect(emulator.dataStore.get(NS)!.get(COVAC)).toEqual(['something', 'else']);
  });

  it('two backups at once (two processes) both survive, whether the key exists or not', async () => {
    await seedFixtureProgram();
    const dir = workspace();
    // Each write is slow, so that both processes read the value before either write lands.
    const pair = (method: string) => {
      emulator.addFault({ method, path: KEY_PATH, times: 2, fault: { kind: 'latency', ms: 400 } });
      return Promise.all([
        run('backup', dir, { 'backup-name': `first ${method}` }),
        run('backup', dir, { 'backup-name': `second ${method}` }),
      ]);
    };
    // Key missing: both POST, one gets 409, reads again and PUTs.
    const [a, b] = await pair('POST');
    expect([a.code, b.code, a.errors, b.errors]).toEqual([0, 0, [], []]);
    expect(
      storedBackups()
        .map((r) => r.name)
        .sort(),
    ).toEqual(['first POST', 'second POST']);
    // Key there: both PUT the whole value built from the same read; the one whose record the other's
    // PUT dropped sees it on reading back, and merges again.
    const [c, d] = await pair('PUT');
    expect([c.code, d.code, c.errors, d.errors]).toEqual([0, 0, [], []]);
    expect(
      storedBackups()
        .map((r) => r.name)
        .sort(),
    ).toEqual(['first POST', 'first PUT', 'second POST', 'second PUT']);
    expect(new Set(storedBackups().map((r) => r.id)).size).toBe(4);
    expect(JSON.parse(c.outputs.backups!)[0].name).toBe('first PUT');
  });

  it('a record saved between its first read and its write survives (read again right before writing)', async () => {
    putBackups([FIXTURE]);
    await seedFixtureProgram();
    // The export is slow: the app (or another run) saves a backup meanwhile.
    emulator.addFault({
      method: 'GET',
      path: `/api/programs/${PROGRAM}/metadata.json`,
      fault: { kind: 'latency', ms: 700 },
    });
    const pending = run('backup', workspace(), { 'backup-name': 'ours' });
    await until(() => requestsTo('GET', KEY_PATH) >= 1, 'the first read of the key');
    const theirs = { ...FIXTURE, id: FIXTURE.id + 1, name: 'saved meanwhile' };
    putBackups([FIXTURE, theirs]);
    const result = await pending;
    expect(result.code).toBe(0);
    expect(storedBackups().map((r) => r.name)).toEqual([FIXTURE.name, 'saved meanwhile', 'ours']);
  });

  it('a concurrent write that replaces ours is merged again: nothing is lost', async () => {
    putBackups([FIXTURE]);
    await seedFixtureProgram();
    // The read-back after our PUT (the 3rd GET of the key) is slow; meanwhile a writer that read before our
    // write saves its stale copy plus its own record, dropping ours.
    emulator.addFault({ method: 'GET', path: KEY_PATH, nth: 3, fault: { kind: 'latency', ms: 700 } });
    const pending = run('backup', workspace(), { 'backup-name': 'ours' });
    await until(() => requestsTo('PUT', KEY_PATH) >= 1, 'our write');
    putBackups([FIXTURE, { ...FIXTURE, id: FIXTURE.id + 5, name: 'stale writer' }]);
    const result = await pending;
    expect(result.code).toBe(0);
    expect(storedBackups().map((r) => r.name)).toEqual([FIXTURE.name, 'stale writer', 'ours']);
    expect(requestsTo('PUT', KEY_PATH)).toBe(2);
  });

  it('works before 2.41, where PUT does not create a key: POST first, then PUT', async () => {
    await emulator.close();
    await start('2.39.1');
    await seedFixtureProgram();
    const dir = workspace();
    const first = await run('backup', dir, { 'backup-name': 'one' });
    const second = await run('backup', dir, { 'backup-name': 'two' });
    expect([first.code, second.code, first.errors, second.errors]).toEqual([0, 0, [], []]);
    expect(requestsTo('POST', KEY_PATH)).toBe(1);
    expect(requestsTo('PUT', KEY_PATH)).toBe(1);
    expect(storedBackups().map((r) => r.name)).toEqual(['one', 'two']);
    // Two at once on a missing key: one POST wins, the other gets 409 and PUTs.
    emulator.dataStore.clear();
    const both = await Promise.all([
      run('backup', dir, { 'backup-name': 'a' }),
      run('backup', dir, { 'backup-name': 'b' }),
    ]);
    expect(both.map((r) => r.code)).toEqual([0, 0]);
    expect(
      storedBackups()
        .map((r) => r.name)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('warns in the summary when the backups grow past 5 MB, and says how to prune', async () => {
    await seedFixtureProgram();
    const padding = 'x'.repeat(1024 * 1024);
    putBackups([1, 2, 3, 4, 5, 6].map((i) => ({ ...FIXTURE, id: i, name: `big ${i}`, comment: padding })));
    const result = await run('backup', workspace());
    expect(result.code).toBe(0);
    expect(result.summary).toMatch(/7 backups of program wriKFoFj7Fw take 6\.\d MB in one dataStore value/);
    expect(result.summary).toContain('Datastore Manager');
    expect(result.summary).toContain(mdText(`PUT /api/dataStore/${NS}/${PROGRAM}`));
    expect(result.stdout).toMatch(/::warning::.*take 6\.\d MB/);
    const listed = await run('list-backups', workspace());
    expect(listed.code).toBe(0);
    expect(listed.summary).toMatch(/7 backups of program wriKFoFj7Fw take 6\.\d MB/);
  });
});

describe('list-backups', () => {
  it('lists a record the app wrote: backups output and a summary table', async () => {
    putBackups([FIXTURE]);
    await seedFixtureProgram();
    const result = await run('list-backups', workspace());
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.outputs.backups!)).toEqual([
      {
        programId: PROGRAM,
        id: 1718031234567,
        name: FIXTURE.name,
        version: '3',
        date: '2024-06-10 14:53:54',
        comment: 'Before the June form changes',
      },
    ]);
    expect(result.summary).toContain('| name | version | date | comment | id |');
    expect(result.summary).toContain(
      `| ${mdText(FIXTURE.name)} | 3 | 2024-06-10 14:53:54 | Before the June form changes | 1718031234567 |`,
    );
    expect(existsSync(result.outputs.report!)).toBe(true);
  });

  it('a program without backups says "No backups found" and succeeds', async () => {
    const result = await run('list-backups', workspace([COVAC]));
    expect(result.code).toBe(0);
    expect(result.outputs.backups).toBe('[]');
    expect(result.outputs.status).toBe('OK');
    expect(result.summary).toContain('No backups found');
    expect(result.stdout).toContain('No backups found');
  });

  it('a program that neither exists nor has backups is an error (a wrong id)', async () => {
    const result = await run('list-backups', workspace(['AbCdEfGhIj1']));
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toMatch(/AbCdEfGhIj1 does not exist .* and has no backups/);
    expect(result.outputs.status).toBe('ERROR');
  });
});

describe('download-backup', () => {
  it('writes an app record as an importable canonical file, by id or by name', async () => {
    putBackups([FIXTURE]);
    const dir = workspace();
    const byId = await run('download-backup', dir, { 'backup-id': String(FIXTURE.id), 'output-dir': 'backups' });
    expect(byId.errors).toEqual([]);
    expect(byId.code).toBe(0);
    const file = `backups/${PROGRAM}-${FIXTURE.id}.json`;
    expect(JSON.parse(byId.outputs.files!)).toEqual([file]);
    const text = readFileSync(join(dir, file), 'utf8');
    // The file shape export writes: the record's top-level PSDEs and PTEAs folded into their owners.
    expect(text).toBe(canonicalJson(toFileShape(FIXTURE.metadata)));
    expect(JSON.parse(text).programStageDataElements).toBeUndefined();

    const byName = await run('download-backup', dir, { 'backup-id': FIXTURE.name, 'output-dir': 'backups' });
    expect(byName.code).toBe(0);
    expect(readFileSync(join(dir, file), 'utf8')).toBe(text);

    // Importable as it is: the server validates it with status OK (a new program here).
    const report = await importMetadata(JSON.parse(text), 'VALIDATE');
    expect((report.response ?? report).status).toBe('OK');
    expect(emulator.store.get('programs', PROGRAM)).toBeUndefined();
  });

  it('defaults to the workspace root and imports over the program it came from', async () => {
    putBackups([FIXTURE]);
    await seedFixtureProgram();
    const dir = workspace();
    const result = await run('download-backup', dir, { 'backup-id': String(FIXTURE.id) });
    expect(result.code).toBe(0);
    const file = `${PROGRAM}-${FIXTURE.id}.json`;
    expect(JSON.parse(result.outputs.files!)).toEqual([file]);
    const report = await importMetadata(JSON.parse(readFileSync(join(dir, file), 'utf8')), 'VALIDATE');
    expect((report.response ?? report).status).toBe('OK');
  });

  it('an unknown backup-id lists the available backups (name and id)', async () => {
    putBackups([FIXTURE, { ...FIXTURE, id: 1718031299999, name: 'second' }]);
    const result = await run('download-backup', workspace(), { 'backup-id': 'nope' });
    expect(result.code).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain('has no backup "nope"');
    expect(result.errors[0]).toContain(`"second" (id 1718031299999`);
    expect(result.errors[0]).toContain(`"${FIXTURE.name}" (id ${FIXTURE.id}`);
    expect(result.outputs.files).toBe('[]');
  });

  it('requires backup-id', async () => {
    const result = await run('download-backup', workspace());
    expect(result.code).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/input backup-id is required for download-backup/);
  });

  it('refuses an output-dir outside the workspace', async () => {
    putBackups([FIXTURE]);
    const result = await run('download-backup', workspace(), {
      'backup-id': String(FIXTURE.id),
      'output-dir': '../out',
    });
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toMatch(/output-dir must stay inside the workspace/);
  });

  it('backup then download: the action reads back what it wrote', async () => {
    await seedFixtureProgram();
    const dir = workspace();
    const saved = await run('backup', dir, { 'backup-name': 'round trip' });
    expect(saved.code).toBe(0);
    const result = await run('download-backup', dir, { 'backup-id': 'round trip' });
    expect(result.code).toBe(0);
    const text = readFileSync(join(dir, JSON.parse(result.outputs.files!)[0]), 'utf8');
    expect(text).toBe(canonicalJson(toFileShape(storedBackups()[0]!.metadata)));
    const report = await importMetadata(JSON.parse(text), 'VALIDATE');
    expect((report.response ?? report).status).toBe('OK');
  });
});
