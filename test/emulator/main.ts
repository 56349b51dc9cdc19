/**
 * `npm run emulator`: a DHIS2 emulator to try the CLI against by hand. PORT (default 8080), DHIS2_VERSION
 * (default 2.41.3) and CONTEXT_PATH (default none) come from the environment; Ctrl-C stops it.
 */
import { DEFAULT_TOKEN, DEFAULT_VERSION, LEGACY_TOKEN, SAMPLE_PROGRAMS, startEmulator } from './index.ts';
import { atLeast, parseVersion } from './version.ts';

const port = Number(process.env.PORT ?? 8080);
const emulator = await startEmulator({
  port: Number.isInteger(port) ? port : 8080,
  version: process.env.DHIS2_VERSION ?? DEFAULT_VERSION,
  contextPath: process.env.CONTEXT_PATH ?? '',
});

const token = atLeast(parseVersion(emulator.version), 41) ? DEFAULT_TOKEN : LEGACY_TOKEN;
console.log(`DHIS2 ${emulator.version} emulator listening on ${emulator.url}`);
console.log(`  Basic auth: admin / district`);
console.log(`  Token:      Authorization: ApiToken ${token}`);
console.log('  Sample programs:');
for (const p of SAMPLE_PROGRAMS) console.log(`    ${p.id}  ${p.kind.padEnd(7)}  ${p.name}  (${p.source})`);
console.log('Press Ctrl-C to stop.');

const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
