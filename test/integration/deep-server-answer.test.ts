/**
 * Issue 17, finding 8a: a server answer nested 100,000 deep (what no DHIS2 sends: its metadata is a few dozen
 * levels at most) ended in "Maximum call stack size exceeded", reported as an internal error, from the
 * recursive walks over server JSON. It is refused before any walk, in one ::error:: line naming the problem.
 * The emulator answers the program's dependency export with the nest: a `status` fault with a body replaces
 * the answer and is sent as JSON when it parses (test/emulator/server.ts faultReply, README "Faults").
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { runAction } from '../helpers/run-action.ts';
import { exportedWorkspace, programsConfig, repairCovacRule } from '../helpers/program-files.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const COVAC = 'yDuAzyqYABS';
const PASSWORD = 'Pw-deep-8a-never-printed';
const DEPTH = 100_000;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'deep', password: PASSWORD }] });
  repairCovacRule(emulator.store); // the dry run's checks pass: its outcome is the server's answer alone
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

const creds = () => ({ 'server-url': emulator.url, username: 'deep', password: PASSWORD });

/** The nests: objects inside the program object (the plan and the diff walk these), arrays in a collection. */
const NESTS: [string, string][] = [
  [
    'objects in the program',
    `{"programs":[{"id":"${COVAC}","name":"x","x":${'{"x":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}]}`,
  ],
  ['arrays in a collection', `{"programs":[${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}]}`],
];

function answerDeep(body: string): void {
  emulator.addFault({
    method: 'GET',
    path: `/api/programs/${COVAC}/metadata.json`,
    times: Infinity,
    fault: { kind: 'status', status: 200, body },
  });
}

function expectRefused(run: Awaited<ReturnType<typeof runAction>>): void {
  expect(run.code).not.toBe(0);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(/^::error::.*the server's answer \(.*\) is nested deeper than 1000 levels/);
  expect(run.everything).not.toContain('Maximum call stack');
  expect(run.everything).not.toContain('internal error');
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('a server answer nested 100,000 deep (issue 17, 8a)', () => {
  it.each(NESTS)('export (%s): one ::error:: line, no stack overflow', async (_what, body) => {
    const ws = tempWorkspace({ 'dhis2-metadata.yml': programsConfig([COVAC]) });
    cleanup.push(ws.remove);
    answerDeep(body);
    const run = await runAction({ command: 'export', ...creds() }, { workspace: ws.dir });
    expectRefused(run);
    expect(run.outputs.status).toBe('ERROR');
  });

  it.each(NESTS)('dry-run (%s): one ::error:: line, no stack overflow', async (_what, body) => {
    const dir = await exportedWorkspace(creds(), [COVAC], cleanup);
    answerDeep(body);
    const run = await runAction({ command: 'dry-run', ...creds() }, { workspace: dir });
    expectRefused(run);
    expect(run.outputs.status).toBe('ERROR');
  });
});
