import type { Settings } from '../config/types.ts';
import { Dhis2Client } from '../dhis2/client.ts';
import { ConfigError } from '../errors.ts';
import type { Reporter } from '../reporter.ts';

/**
 * No credentials at all (an empty `token` and no `username`/`password`): said before any request, as what
 * it is. A secret this job or environment cannot read is passed as an empty string, and the server's 401
 * ("refused") would blame credentials that were never sent.
 */
export function missingCredentialsMessage(command: string): string {
  return (
    `no DHIS2 credentials for ${command}: token is empty and username/password are not set. ` +
    'Set token (or username and password) from a secret; an empty value usually means the secret does not exist ' +
    'or is not available to this job (a secret of another environment, a fork, or a Dependabot run)'
  );
}

/** Connects to the server of the settings (reads /api/system/info once) and says where it is. */
export async function connect(settings: Settings, reporter: Reporter): Promise<Dhis2Client> {
  if (!settings.server.auth) throw new ConfigError(missingCredentialsMessage(settings.command));
  const timeout = settings.importTimeoutMs;
  const client = await Dhis2Client.connect({
    url: settings.server.url,
    auth: settings.server.auth,
    log: (m) => reporter.debug(m),
    asyncTimeoutMs: timeout,
    startTimeoutMs: Math.min(120_000, timeout / 10),
    pollIntervalMs: Math.min(1000, timeout / 40),
    progressIntervalMs: Math.min(20_000, timeout / 4),
    progress: (m) => reporter.info(m),
  });
  reporter.info(`Connected to DHIS2 ${client.system.version} at ${client.url}`);
  return client;
}
