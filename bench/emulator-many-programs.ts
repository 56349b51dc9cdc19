/**
 * The emulator for the scale benchmark (bench/scale.ts), in its own process: DHIS2 2.43.1 seeded with PROGRAMS
 * copies of real programs (test/helpers/many-programs.ts), each with uids of its own. PORT from the environment.
 */
import { startEmulator } from '../test/emulator/index.ts';
import { manyPrograms } from '../test/helpers/many-programs.ts';

const count = Number(process.env.PROGRAMS ?? 10);
if (!Number.isInteger(count) || count < 1)
  throw new Error(`PROGRAMS must be a positive integer, got ${process.env.PROGRAMS}`);
const emulator = await startEmulator({
  version: '2.43.1',
  port: Number(process.env.PORT),
  seed: manyPrograms(count),
});
console.log(`listening on ${emulator.url} with ${count} programs`);
const stop = (): void => void emulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
