/**
 * Errors before and at the connection, as a user of the built action sees them: credentials that are missing
 * (a secret this job cannot read arrives as an empty string) are said to be missing, before any request; a
 * TLS mismatch (`https://` to the emulator's plain http port) says so in one line; every error is one
 * line (a multi-line message would reach the runner as `%0A` inside one annotation).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { runAction } from '../helpers/run-action.ts';
import { tempWorkspace } from '../helpers/workspace.ts';

const PROGRAM = 'f1AyMswryyQ';
const PASSWORD = 'Pw-conn-51a9-never-printed';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ users: [{ username: 'deployer', password: PASSWORD }] });
});
afterAll(async () => {
  await emulator.close();
});
let cleanup: (() => void)[] = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
});

function workspace(): string {
  const ws = tempWorkspace({ 'dhis2-metadata.yml': `target: another-server\nprograms:\n  - id: ${PROGRAM}\n` });
  cleanup.push(ws.remove);
  return ws.dir;
}

/** The one ::error:: line of a failed run: on one line, with no encoded line break inside. */
function theError(run: { code: number; errors: string[] }): string {
  expect(run.code).toBe(1);
  expect(run.errors).toHaveLength(1);
  const line = run.errors[0]!;
  expect(line).not.toMatch(/%0A|%0D/);
  return line;
}

describe('missing credentials', () => {
  for (const command of ['export', 'dry-run', 'restore', 'backup', 'list-backups']) {
    it(`${command}: an empty token and no username/password are named as missing, before any request`, async () => {
      const from = emulator.requests.length;
      const run = await runAction(
        { command, 'server-url': emulator.url, token: '', username: '', password: '' },
        { workspace: workspace() },
      );
      const line = theError(run);
      expect(line).toMatch(/no DHIS2 credentials for [a-z-]+: token is empty and username\/password are not set/);
      expect(line).toMatch(/secret does not exist or is not available to this job/);
      expect(line).not.toMatch(/refused|401/);
      expect(emulator.requests.length).toBe(from);
    });
  }

  it('a wrong password is still "refused" (the missing-credentials message is only for none at all)', async () => {
    const run = await runAction(
      { command: 'export', 'server-url': emulator.url, username: 'deployer', password: 'wrong' },
      { workspace: workspace() },
    );
    expect(theError(run)).toMatch(/was refused/);
  });
});

describe('TLS and other connection failures, each in one line', () => {
  it('https:// to a plain http port: "the server does not speak https on this port"', async () => {
    const port = new URL(emulator.url).port;
    const run = await runAction(
      { command: 'export', 'server-url': `https://127.0.0.1:${port}`, username: 'deployer', password: PASSWORD },
      { workspace: workspace() },
    );
    const line = theError(run);
    expect(line).toContain('the server does not speak https on this port');
    expect(line).toContain(`127.0.0.1:${port}`);
    expect(line).toContain('use http:// in server-url');
    // No OpenSSL internals.
    expect(line).not.toMatch(/ssl3_get_record|openssl|0A00010B/i);
    expect(run.everything).not.toContain(PASSWORD);
  });

  it('connection refused: one line naming host and port', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await runAction(
      { command: 'export', 'server-url': `http://127.0.0.1:${port}`, username: 'deployer', password: PASSWORD },
      { workspace: workspace() },
    );
    expect(theError(run)).toContain(`connection refused by 127.0.0.1:${port}`);
  });
});
