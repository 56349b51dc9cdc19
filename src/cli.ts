#!/usr/bin/env node
/**
 * The command line (dist/cli.js, `npx dhis2-metadata`): the same engine as the action, one --flag per
 * action input, credentials also from DHIS2_SERVER_URL, DHIS2_USERNAME, DHIS2_PASSWORD, DHIS2_TOKEN.
 */
import { helpText, parseCli, VERSION, type Parsed } from './cli-args.ts';
import { CliReporter } from './cli-reporter.ts';
import { environment } from './config/inputs.ts';
import { COMMANDS } from './config/types.ts';
import { execute } from './run.ts';
import { installInterruptHandling } from './util/interrupt.ts';

async function main(): Promise<number> {
  const env = environment();
  let parsed: Parsed;
  try {
    parsed = parseCli(process.argv.slice(2), env.env);
  } catch (e) {
    const command = process.argv.slice(2).find((a) => (COMMANDS as readonly string[]).includes(a));
    const help = command ? `dhis2-metadata ${command} --help` : 'dhis2-metadata --help';
    process.stderr.write(`error: ${(e as Error).message}\nRun ${help} for the commands and flags.\n`);
    return 1;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${helpText(parsed.command)}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`dhis2-metadata ${VERSION}\n`);
    return 0;
  }
  const reporter = new CliReporter(undefined, undefined, parsed.verbose);
  const code = await execute(parsed.raw, env, reporter);
  // After an error the error said it all: no `status: ERROR` block, only where the full report is.
  const outputs = Object.entries(reporter.outputs).filter(([k]) => code === 0 || k === 'report');
  if (outputs.length > 0) {
    process.stdout.write(
      code === 0
        ? `\nOutputs:\n${outputs.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`
        : `\nFull report: ${outputs[0]?.[1]}\n`,
    );
  }
  return code;
}

// `dhis2-metadata restore | head`: the reader went away. Stop printing, but finish the run (a restore
// half done because nobody reads its progress would be the worst outcome) and keep its exit code.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.stdout.write = (() => true) as typeof process.stdout.write;
});
// Ctrl-C: what was done is said before the process ends with 130.
installInterruptHandling();
process.exitCode = await main();
