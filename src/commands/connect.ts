import type { Settings } from '../config/types.ts';
import { Dhis2Client } from '../dhis2/client.ts';
import type { Reporter } from '../reporter.ts';

/** Connects to the server of the settings (reads /api/system/info once) and says where it is. */
export async function connect(settings: Settings, reporter: Reporter): Promise<Dhis2Client> {
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
