import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, SAMPLE_PROGRAMS, type Emulator } from '../emulator/index.ts';
import { repoWithRemote, sh } from '../helpers/git-repo.ts';
import { runAction, runCli } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const TB = 'Lt6P15ps7f6'; // WHO TB Case Surveillance (DHIS2 2.33 package: legacy sharing keys)
const COVAC = 'yDuAzyqYABS'; // WHO COVAC registry (2.38 package)
// A password that can't occur in metadata by chance, so the secret greps mean something.
const PASSWORD = 'Pw-9f2c-never-printed';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'exporter', password: PASSWORD }] });
});
afterAll(async () => {
  await emulator.close();
});
let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
  emulator.clearFaults();
});

function config(target: string, programs: string[], extra = ''): string {
  return `target: ${target}\nprograms:\n${programs.map((p) => `  - id: ${p}\n`).join('')}${extra}`;
}

function workspace(files: Record<string, string>) {
  const ws = tempWorkspace(files);
  cleanup.push(ws.remove);
  return ws.dir;
}

function inputs(extra: Record<string, string> = {}) {
  return { command: 'export', 'server-url': emulator.url, username: 'exporter', password: PASSWORD, ...extra };
}

function keysAtAnyDepth(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysAtAnyDepth(v, found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      found.add(k);
      keysAtAnyDepth(v, found);
    }
  }
  return found;
}

describe('export (the bundled action against the emulator)', () => {
  it('writes each program to its file with the another-server preset applied', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('another-server', [TB, COVAC]) });
    const run = await runAction(inputs(), { workspace: dir });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.changed).toBe('true');
    expect(run.outputs.status).toBe('OK');
    expect(JSON.parse(run.outputs.files ?? '[]').sort()).toEqual(
      [`metadata/${TB}.json`, `metadata/${COVAC}.json`].sort(),
    );
    const tb = JSON.parse(readFileSync(join(dir, `metadata/${TB}.json`), 'utf8'));
    expect(tb.programs.map((p: { id: string }) => p.id)).toEqual([TB]);
    const keys = keysAtAnyDepth(tb);
    for (const k of [
      'sharing',
      'publicAccess',
      'userGroupAccesses',
      'organisationUnits',
      'created',
      'lastUpdated',
      'createdBy',
    ]) {
      expect(keys.has(k), k).toBe(false);
    }
    expect(tb.system).toBeUndefined();
    // The source program's rules, stages and data elements are all there.
    const seeded = emulator.store.list('programRules').filter((r) => (r.program as { id: string })?.id === TB);
    expect(tb.programRules).toHaveLength(seeded.length);
    expect(tb.programStages.length).toBeGreaterThan(0);
    // The job summary has a row per program, and the report output points at a JSON report.
    expect(run.summary).toContain(TB);
    expect(run.summary).toContain(COVAC);
    const report = JSON.parse(readFileSync(run.outputs.report as string, 'utf8'));
    expect(report.programs).toHaveLength(2);
    expect(run.everything).not.toContain(PASSWORD);
    expect(run.everything).not.toContain(Buffer.from(`exporter:${PASSWORD}`).toString('base64'));
  });

  it('is deterministic: a second export of an unchanged server changes nothing and rewrites nothing', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('current-server', [COVAC]) });
    const first = await runAction(inputs(), { workspace: dir });
    expect(first.outputs.changed).toBe('true');
    const path = join(dir, `metadata/${COVAC}.json`);
    const bytes = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const second = await runAction(inputs(), { workspace: dir });
    expect(second.code).toBe(0);
    expect(second.outputs.changed).toBe('false');
    expect(second.outputs.files).toBe('[]');
    expect(readFileSync(path, 'utf8')).toBe(bytes);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(bytes.endsWith('}\n')).toBe(true);
  });

  it('one field changed on the server is exactly one changed line', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('another-server', [COVAC]) });
    await runAction(inputs(), { workspace: dir });
    const path = join(dir, `metadata/${COVAC}.json`);
    const before = readFileSync(path, 'utf8').split('\n');
    const doc = JSON.parse(before.join('\n'));
    const de = doc.dataElements[3];
    const stored = emulator.store.get('dataElements', de.id) as Record<string, unknown>;
    emulator.store.put('dataElements', { ...stored, name: `${stored.name} (renamed)` });
    try {
      const run = await runAction(inputs(), { workspace: dir });
      expect(run.outputs.changed).toBe('true');
      const after = readFileSync(path, 'utf8').split('\n');
      expect(after).toHaveLength(before.length);
      const changed = after.map((l, i) => [l, before[i]]).filter(([a, b]) => a !== b);
      expect(changed).toEqual([
        [
          `      "name": ${JSON.stringify(`${stored.name} (renamed)`)},`,
          `      "name": ${JSON.stringify(stored.name)},`,
        ],
      ]);
    } finally {
      emulator.store.put('dataElements', stored);
    }
  });

  it('a missing program fails the step naming it, and the others are still exported', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('another-server', ['AAAAAAAAAAA', COVAC]) });
    const run = await runAction(inputs(), { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('AAAAAAAAAAA');
    expect(run.outputs.status).toBe('ERROR');
    expect(run.errors[0]).toMatch(/does not exist|not found/);
    expect(readFileSync(join(dir, `metadata/${COVAC}.json`), 'utf8').length).toBeGreaterThan(100);
  });

  it('hnqis2-enabled-server on a tracker program is an error on its config line', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('hnqis2-enabled-server', [COVAC]) });
    const run = await runAction(inputs(), { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^::error file=dhis2-metadata\.yml,line=3.*hnqis2-enabled-server.*tracker/);
  });

  it('hnqis2-enabled-server keeps only the HNQIS attributes on an HNQIS2 program', async () => {
    const hnqis = SAMPLE_PROGRAMS.find((p) => p.kind === 'hnqis2');
    expect(hnqis).toBeDefined();
    const dir = workspace({ 'dhis2-metadata.yml': config('hnqis2-enabled-server', [hnqis!.id]) });
    const run = await runAction(inputs(), { workspace: dir });
    expect(run.errors).toEqual([]);
    const doc = JSON.parse(readFileSync(join(dir, `metadata/${hnqis!.id}.json`), 'utf8'));
    const keep = ['haUflNqP85K', 'LP171jpctBm', 'yB5tFAAN7bI', 'DVzuBdj9kli', 'yhKEe6BLEer'];
    for (const a of doc.attributes ?? []) expect(keep).toContain(a.id);
    for (const k of ['trackedEntityTypes', 'trackedEntityAttributes', 'categoryCombos', 'system']) {
      expect(doc[k], k).toBeUndefined();
    }
    expect(keysAtAnyDepth(doc).has('categoryCombo')).toBe(false);
  });

  it('object selection and attribute removal from the config', async () => {
    const extra =
      'objects: [programs, programStages, dataElements]\nattributes:\n  dataElements: [aggregationType, domainType]\n';
    const dir = workspace({ 'dhis2-metadata.yml': config('current-server', [COVAC], extra) });
    const run = await runAction(inputs(), { workspace: dir });
    expect(run.errors).toEqual([]);
    const doc = JSON.parse(readFileSync(join(dir, `metadata/${COVAC}.json`), 'utf8'));
    expect(Object.keys(doc).sort()).toEqual(['dataElements', 'programStages', 'programs']);
    for (const de of doc.dataElements) {
      expect(de.aggregationType).toBeUndefined();
      expect(de.domainType).toBeUndefined();
      expect(de.valueType).toBeDefined();
    }
  });

  it('wrong password: one clear error, nothing written, no secret', async () => {
    const dir = workspace({ 'dhis2-metadata.yml': config('another-server', [COVAC]) });
    const run = await runAction(inputs({ password: 'Wr0ng-Secret-Pass' }), { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/401|refused|authentication/i);
    expect(run.everything).not.toContain('Wr0ng-Secret-Pass');
    expect(run.masked).toContain('Wr0ng-Secret-Pass');
  });

  it('works from the CLI with DHIS2_* credentials and a token', async () => {
    const { DEFAULT_TOKEN } = await import('../emulator/index.ts');
    const dir = workspace({ 'dhis2-metadata.yml': config('another-server', [COVAC]) });
    const r = await runCli(['export'], {
      cwd: dir,
      env: { DHIS2_SERVER_URL: emulator.url, DHIS2_TOKEN: DEFAULT_TOKEN },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`metadata/${COVAC}.json`);
    expect(r.stdout + r.stderr).not.toContain(DEFAULT_TOKEN);
  });
});

describe('export with commit: true (real git, bare remote)', () => {
  it('one commit on the remote when files changed, none when nothing changed', async () => {
    const repo = repoWithRemote({ 'dhis2-metadata.yml': config('another-server', [COVAC]) });
    cleanup.push(repo.remove);
    const first = await runAction(inputs({ commit: 'true' }), { workspace: repo.work });
    expect(first.errors).toEqual([]);
    expect(repo.remoteLog()).toHaveLength(2);
    expect(repo.remoteLog()[0]).toMatch(/^Export COVAC - COVID-19 Vaccination Registry from DHIS2 \d/);
    expect(sh(repo.remote, 'show', '--name-only', '--format=', 'main')).toBe(`metadata/${COVAC}.json`);

    const second = await runAction(inputs({ commit: 'true' }), { workspace: repo.work });
    expect(second.code).toBe(0);
    expect(second.outputs.changed).toBe('false');
    expect(repo.remoteLog()).toHaveLength(2);
  });

  it('rebases onto a branch that moved meanwhile', async () => {
    const repo = repoWithRemote({ 'dhis2-metadata.yml': config('another-server', [COVAC]), 'notes.md': 'a\n' });
    cleanup.push(repo.remove);
    const other = repo.otherClone();
    writeFileSync(join(other, 'notes.md'), 'b\n');
    sh(other, 'commit', '--quiet', '-am', 'Edit notes');
    sh(other, 'push', '--quiet', 'origin', 'main');
    const run = await runAction(inputs({ commit: 'true', 'commit-message': 'Nightly export' }), {
      workspace: repo.work,
    });
    expect(run.errors).toEqual([]);
    expect(repo.remoteLog()).toEqual(['Nightly export', 'Edit notes', 'initial']);
  });
});
