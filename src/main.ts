/**
 * The action: run() reads the inputs (INPUT_<NAME> variables, through @actions/core), runs the command and
 * sets the exit code. src/index.ts calls it (dist/index.js); @github/local-action imports this module and
 * calls run() with its own @actions/core stand-in.
 */
import * as core from '@actions/core';
import { environment, INPUTS, type RawInputs } from './config/inputs.ts';
import { ActionReporter } from './github/action-reporter.ts';
import { execute } from './run.ts';
import { installInterruptHandling } from './util/interrupt.ts';
import { onSecret, registerSecret } from './util/secrets.ts';

function readActionInputs(): RawInputs {
  const raw: RawInputs = {};
  for (const input of INPUTS) {
    const v = core.getInput(input.name);
    // Mask secrets in the runner's log before anything can print them.
    if ('secret' in input && input.secret && v) registerSecret(v);
    if (v !== '') raw[input.name] = v;
  }
  return raw;
}

/** Runs the action once; the step's result is process.exitCode (0, 1, or 130 when interrupted). */
export async function run(): Promise<void> {
  // Every secret the run learns, derived ones too (the Basic auth header), is masked in the runner's log.
  onSecret((secret) => core.setSecret(secret));
  const env = environment();
  const reporter = new ActionReporter(Boolean(env.env.GITHUB_STEP_SUMMARY));
  // A cancelled workflow (SIGINT, then SIGTERM): what was done is said before the step ends with 130.
  installInterruptHandling();
  // Not core.setFailed: the error was already reported as one annotated line; a second would repeat it.
  process.exitCode = await execute(readActionInputs(), env, reporter);
}
