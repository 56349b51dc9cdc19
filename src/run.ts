import { buildSettings, type Environment, type RawInputs } from './config/inputs.ts';
import type { Command, Settings } from './config/types.ts';
import { isUserError } from './errors.ts';
import { runDryRun } from './commands/dry-run.ts';
import { runBackup } from './commands/backup.ts';
import { runCheck } from './commands/check.ts';
import { runDownloadBackup } from './commands/download-backup.ts';
import { runExport } from './commands/export.ts';
import { runListBackups } from './commands/list-backups.ts';
import { runRestore } from './commands/restore.ts';
import type { Reporter } from './reporter.ts';
import { redact } from './util/secrets.ts';

/** A command reports through the reporter and says whether the step succeeded. */
export type CommandHandler = (settings: Settings, reporter: Reporter) => Promise<boolean>;

export const COMMAND_HANDLERS: Record<Command, CommandHandler> = {
  export: runExport,
  'dry-run': runDryRun,
  restore: runRestore,
  backup: runBackup,
  'list-backups': runListBackups,
  'download-backup': runDownloadBackup,
  check: runCheck,
};

/**
 * Reports an error that ends the run as ONE line: the user's problem as it is, or (for anything
 * unexpected) a short internal-error line. Stacks go to the debug log only.
 */
export function reportFailure(error: unknown, reporter: Reporter): void {
  if (isUserError(error)) {
    reporter.error(redact(error.message), error.location);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  reporter.error(
    redact(`internal error: ${message} (a bug in dhis2-metadata; rerun with debug logging and report it)`),
  );
  if (error instanceof Error && error.stack) reporter.debug(redact(error.stack));
}

/** The engine shared by the action and the CLI. Returns the process exit code. */
export async function execute(raw: RawInputs, environment: Environment, reporter: Reporter): Promise<number> {
  // Every command sets `status`: dry-run and restore the DHIS2 import status, the others OK or ERROR.
  let statusSet = false;
  const tracking: Reporter = Object.assign(Object.create(reporter) as Reporter, {
    setOutput(name: string, value: string) {
      if (name === 'status') statusSet = true;
      reporter.setOutput(name, value);
    },
  });
  let ok = false;
  try {
    const settings = buildSettings(raw, environment);
    ok = await COMMAND_HANDLERS[settings.command](settings, tracking);
  } catch (error) {
    reportFailure(error, reporter);
  }
  if (!statusSet) reporter.setOutput('status', ok ? 'OK' : 'ERROR');
  return ok ? 0 : 1;
}
