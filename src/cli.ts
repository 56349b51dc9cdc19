#!/usr/bin/env node
/**
 * The command line (dist/cli.js, `npx dhis2-metadata`): the same engine as the action, one --flag per
 * action input, credentials also from DHIS2_SERVER_URL, DHIS2_USERNAME, DHIS2_PASSWORD, DHIS2_TOKEN.
 */
import { helpText, parseCli, type Parsed } from './cli-args.ts';
import { CliReporter } from './cli-reporter.ts';
import { environment } from './config/inputs.ts';
import { execute } from './run.ts';
import { installInterruptHandling } from './util/interrupt.ts';

async function main(): Promise<number> {
  const env = environment();
  let parsed: Parsed;
  try {
    parsed = parseCli(process.argv.slice(2), env.env);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\nRun dhis2-metadata --help for the commands and flags.\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  const reporter = new CliReporter(undefined, undefined, parsed.verbose);
  const code = await execute(parsed.raw, env, reporter);
  const outputs = Object.entries(reporter.outputs);
  if (outputs.length > 0) {
    process.stdout.write(`\nOutputs:\n${outputs.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
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
