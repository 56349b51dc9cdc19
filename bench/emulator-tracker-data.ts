/**
 * The emulator for the data-impact benchmark, in its own process: DHIS2 2.43.1 with the sample programs, the EPI
 * reconstruction (test/fixtures/made/epi_registry_program.json), the tracker data recorded on a real 2.43.1, and
 * 3,000 more tracked entities like them (each enrolled, with one "Birth details" event), so that the counts run
 * over data. PORT from the environment.
 */
import { readFileSync } from 'node:fs';
import { SAMPLE_SEED, startEmulator } from '../test/emulator/index.ts';

const fixture = (p: string): unknown =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/${p}`, import.meta.url), 'utf8'));
const recorded = fixture('dhis2/real-2.43.1/tracker-data-created.json') as Record<string, unknown>[];
const uid = (prefix: string, n: number) => `${prefix}${String(n).padStart(11 - prefix.length, '0')}`;
const CODES = ['SINGLETON', 'TWIN', 'TRIPLET'];
const more = Array.from({ length: 3000 }, (_, n) => ({
  trackedEntity: uid('Te', n),
  trackedEntityType: 'MCPQUTHX1Ze',
  orgUnit: 'ImspTQPwCqd',
  attributes: [{ attribute: 'oindugucx72', value: n % 2 ? 'MALE' : 'FEMALE' }],
  enrollments: [
    {
      enrollment: uid('En', n),
      program: 'SSLpOM0r1U7',
      orgUnit: 'ImspTQPwCqd',
      enrolledAt: '2026-06-01',
      occurredAt: '2026-06-01',
      status: 'ACTIVE',
      events: [
        {
          event: uid('Ev', n),
          programStage: 'RcbCl5ww8XY',
          program: 'SSLpOM0r1U7',
          orgUnit: 'ImspTQPwCqd',
          occurredAt: '2026-06-01',
          status: 'COMPLETED',
          dataValues: [{ dataElement: 'LtlzGAPWWo8', value: CODES[n % 3] }],
        },
      ],
    },
  ],
}));

const emulator = await startEmulator({
  version: '2.43.1',
  port: Number(process.env.PORT),
  seed: [...SAMPLE_SEED, fixture('made/epi_registry_program.json') as Record<string, unknown>],
  trackerData: [...recorded, ...more],
});
console.log(`listening on ${emulator.url}`);
const stop = (): void => void emulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
