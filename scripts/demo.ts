/**
 * `npm run demo`: the main job on an embedded default. Starts the DHIS2 emulator with the sample programs
 * and runs the bundled CLI (dist/cli.js, the same engine as the action) in a throwaway workspace, the way a
 * user would from a terminal: export, export again (nothing changes), an edit, its dry run (which passes: the
 * package's old problems are reported as already on the server), its restore; then an edit that breaks a rule
 * condition, whose dry run fails on exactly that rule, on its line, and imports nothing; then an edit that
 * removes a vaccine the registry's vaccinations already hold, whose dry run fails on the data it would strand
 * (and passes with --data-impact warn, the reviewer's decision), and imports nothing either.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SAMPLE_PROGRAMS, startEmulator } from '../test/emulator/index.ts';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
/** Vaccinations already recorded on the server: five people, each with one dose of the vaccine named here. */
const VACCINES = ['GAMALEYA', 'GAMALEYA', 'MODERNA', 'GAMALEYA', 'ASTRAZENECA'];
const uid = (prefix: string, n: number) => `${prefix}${String(n).padStart(11 - prefix.length, '0')}`;
const trackerData = VACCINES.map((vaccine, n) => ({
  trackedEntity: uid('DemoTe', n),
  trackedEntityType: 'MCPQUTHX1Ze',
  orgUnit: 'ImspTQPwCqd',
  attributes: [{ attribute: 'oindugucx72', value: n % 2 ? 'MALE' : 'FEMALE' }],
  enrollments: [
    {
      enrollment: uid('DemoEn', n),
      program: 'yDuAzyqYABS',
      orgUnit: 'ImspTQPwCqd',
      enrolledAt: '2026-06-01',
      occurredAt: '2026-06-01',
      status: 'ACTIVE',
      events: [
        {
          event: uid('DemoEv', n),
          programStage: 'a1jCssI2LkW',
          program: 'yDuAzyqYABS',
          orgUnit: 'ImspTQPwCqd',
          occurredAt: '2026-06-01',
          status: 'COMPLETED',
          dataValues: [{ dataElement: 'bbnyNYD1wgS', value: vaccine }],
        },
      ],
    },
  ],
}));
const emulator = await startEmulator({ trackerData });
const workspace = mkdtempSync(join(tmpdir(), 'dhis2-metadata-demo-'));
const env = {
  PATH: process.env.PATH ?? '',
  DHIS2_SERVER_URL: emulator.url,
  DHIS2_USERNAME: 'admin',
  DHIS2_PASSWORD: 'district',
  DHIS2_METADATA_REPORT_DIR: join(workspace, '.reports'),
};
const programs = [
  SAMPLE_PROGRAMS.find((p) => p.id === 'yDuAzyqYABS')!,
  SAMPLE_PROGRAMS.find((p) => p.kind === 'hnqis2')!,
];

const config = `target: another-server
programs:
${programs.map((p) => `  - id: ${p.id}   # ${p.name}`).join('\n')}
restore:
  organisationUnits: keep
  sharing: keep
`;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function cli(args: string): Promise<number> {
  console.log(`\n${bold(`$ dhis2-metadata ${args}`)}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args.split(' ')], { cwd: workspace, env, stdio: 'inherit' });
    child.on('close', (code) => {
      console.log(`(exit code ${code})`);
      done(code ?? 1);
    });
  });
}

try {
  console.log(
    `DHIS2 emulator ${emulator.version} at ${emulator.url} (admin / district), ${SAMPLE_PROGRAMS.length} sample programs.`,
  );
  console.log(`Workspace: ${workspace}\n\n${bold('dhis2-metadata.yml')}\n${config}`);
  writeFileSync(join(workspace, 'dhis2-metadata.yml'), config);

  await cli('export');
  console.log('\nA second export of the unchanged server writes nothing:');
  await cli('export');

  const target = programs[0]!;
  const file = join(workspace, `metadata/${target.id}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const de = doc.dataElements[0];
  console.log(`\n${bold(`Editing metadata/${target.id}.json`)}: data element "${de.name}" -> "${de.name} (edited)"`);
  de.name = `${de.name} (edited)`;
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);

  console.log(
    'The published WHO package already carries a few expressions DHIS2 calls invalid: the dry run reports them as\n' +
      'already on the server (warnings), and judges only what this edit brings.',
  );
  const passed = await cli(`dry-run --programs ${target.id}`);
  if (passed !== 0) throw new Error('the dry run of a one-field edit should pass');
  await cli(`restore --programs ${target.id}`);
  console.log(`\nThe server now has: "${emulator.store.get('dataElements', de.id)?.name}"`);

  // A mistake a reviewer should never have to spot: a typo in a rule variable's name.
  const restored = readFileSync(file, 'utf8');
  const edited = JSON.parse(restored);
  const rule = edited.programRules.find(
    (r: { condition?: string }) => typeof r.condition === 'string' && /#\{\w+\}/.test(r.condition),
  );
  const before = rule.condition as string;
  const variable = /#\{(\w+)\}/.exec(before)![1]!;
  rule.condition = before.replace(`#{${variable}}`, `#{${variable.slice(0, -1)}}`);
  const text = `${JSON.stringify(edited, null, 2)}\n`;
  writeFileSync(file, text);
  const line = text.split('\n').findIndex((l) => l.includes(JSON.stringify(rule.condition))) + 1;
  console.log(
    `\n${bold(`Editing metadata/${target.id}.json`)} line ${line}: rule "${rule.name}" now reads #{${variable.slice(0, -1)}} (a typo)`,
  );
  const failed = await cli(`dry-run --programs ${target.id}`);
  if (failed === 0) throw new Error('the dry run of a broken condition should fail');
  console.log(
    `\nThe gate failed on exactly that rule, at metadata/${target.id}.json:${line}; the server still has its condition: ` +
      `${emulator.store.get('programRules', rule.id)?.condition === before ? 'unchanged' : 'CHANGED'}.`,
  );

  // A change that imports fine and strands data: the ministry stops using a vaccine the registry already holds.
  writeFileSync(file, restored);
  const registry = JSON.parse(restored);
  const vaccineName = registry.dataElements.find((d: { id: string }) => d.id === 'bbnyNYD1wgS');
  const names = registry.optionSets.find((o: { id: string }) => o.id === vaccineName.optionSet.id);
  const gamaleya = registry.options.find((o: { code?: string }) => o.code === 'GAMALEYA');
  names.options = names.options.filter((o: { id: string }) => o.id !== gamaleya.id);
  writeFileSync(file, `${JSON.stringify(registry, null, 2)}\n`);
  console.log(
    `\n${bold(`Editing metadata/${target.id}.json`)}: option "${gamaleya.name}" (${gamaleya.code}) removed from "${names.name}".\n` +
      `DHIS2 accepts this import; but ${VACCINES.filter((v) => v === 'GAMALEYA').length} vaccinations on the server hold that code:`,
  );
  const stranded = await cli(`dry-run --programs ${target.id}`);
  if (stranded === 0) throw new Error('the dry run of a change that strands collected data should fail');
  console.log(
    '\nA reviewer who has read it can accept it (in a workflow, from a label): the same dry run, reported only:',
  );
  const accepted = await cli(`dry-run --programs ${target.id} --data-impact warn`);
  if (accepted !== 0) throw new Error('the dry run with --data-impact warn should pass');
  const still = emulator.store.get('optionSets', names.id) as { options: { id: string }[] };
  console.log(
    `\nThe server still offers ${gamaleya.code}: ${still.options.some((o) => o.id === gamaleya.id) ? 'yes' : 'NO'} (a dry run imports nothing).`,
  );
} finally {
  await emulator.close();
  rmSync(workspace, { recursive: true, force: true });
}
