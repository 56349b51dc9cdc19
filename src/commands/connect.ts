import type { Settings } from '../config/types.ts';
import { Dhis2Client } from '../dhis2/client.ts';
import type { Reporter } from '../reporter.ts';

/** Connects to the server of the settings (reads /api/system/info once) and says where it is. */
export async function connect(settings: Settings, reporter: Reporter): Promise<Dhis2Client> {
  const client = await Dhis2Client.connect({
    url: settings.server.url,
    auth: settings.server.auth,
    log: (m) => reporter.debug(m),
  });
  reporter.info(`Connected to DHIS2 ${client.system.version} at ${client.url}`);
  return client;
}
