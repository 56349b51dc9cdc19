/**
 * `npm run demo`: the main job on an embedded default. Starts the DHIS2 emulator with the sample programs,
 * and runs the commands in a throwaway workspace as a user would from a terminal, printing what they print.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../src/cli-args.ts';
import { CliReporter } from '../src/cli-reporter.ts';
import { execute } from '../src/run.ts';
import { SAMPLE_PROGRAMS, startEmulator } from '../test/emulator/index.ts';

const emulator = await startEmulator();
const workspace = mkdtempSync(join(tmpdir(), 'dhis2-metadata-demo-'));
const env = { DHIS2_SERVER_URL: emulator.url, DHIS2_USERNAME: 'admin', DHIS2_PASSWORD: 'district' };
const tracker = SAMPLE_PROGRAMS.filter((p) => p.kind === 'tracker').slice(0, 2);

const config = `# yaml-language-server: $schema=../schema/config.schema.json
target: another-server
programs:
${tracker.map((p) => `  - id: ${p.id}   # ${p.name}\n    file: metadata/${p.id}.json`).join('\n')}
restore:
  organisationUnits: keep
  sharing: keep
`;

async function sh(line: string): Promise<number> {
  console.log(`\n\x1b[1m$ dhis2-metadata ${line}\x1b[0m`);
  const parsed = parseCli(line.split(' '), env);
  if (parsed.help) return 0;
  const reporter = new CliReporter();
  const code = await execute(parsed.raw, { cwd: workspace, env }, reporter);
  const outputs = Object.entries(reporter.outputs);
  if (outputs.length) console.log(`\nOutputs:\n${outputs.map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  console.log(`(exit code ${code})`);
  return code;
}

try {
  console.log(`DHIS2 emulator ${emulator.version} at ${emulator.url} with ${SAMPLE_PROGRAMS.length} sample programs.`);
  console.log(`Workspace: ${workspace}\n\ndhis2-metadata.yml:\n${config}`);
  writeFileSync(join(workspace, 'dhis2-metadata.yml'), config);

  await sh('export');
  console.log('\nA second export of the unchanged server changes nothing:');
  await sh('export');

  const file = join(workspace, `metadata/${tracker[0]!.id}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  console.log(`\nEditing ${tracker[0]!.id}: renaming data element "${doc.dataElements[0].name}".`);
  doc.dataElements[0].name = `${doc.dataElements[0].name} (edited)`;
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);

  await sh(`dry-run --programs ${tracker[0]!.id}`);
  await sh(`restore --programs ${tracker[0]!.id}`);
} finally {
  await emulator.close();
  rmSync(workspace, { recursive: true, force: true });
}
