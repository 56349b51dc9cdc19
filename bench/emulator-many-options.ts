/**
 * The emulator for the restore benchmark, in its own process: DHIS2 2.43.1 seeded with the WHO TB program
 * grown to 3,000 options (test/helpers/many-options.ts). PORT from the environment.
 */
import { startEmulator } from '../test/emulator/index.ts';
import { tbWithManyOptions } from '../test/helpers/many-options.ts';

const emulator = await startEmulator({
  version: '2.43.1',
  port: Number(process.env.PORT),
  seed: [tbWithManyOptions(3000)],
});
console.log(`listening on ${emulator.url}`);
const stop = (): void => void emulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
