import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a pull_request event payload as the runner does, and returns the env pointing at it. */
export function pullRequestEnv(
  dir: string,
  apiUrl: string,
  options: { number?: number; fork?: boolean; repository?: string } = {},
): Record<string, string> {
  const repository = options.repository ?? 'acme/dhis2-config';
  const path = join(dir, 'event.json');
  writeFileSync(
    path,
    JSON.stringify({
      action: 'synchronize',
      number: options.number ?? 7,
      pull_request: {
        number: options.number ?? 7,
        head: { sha: 'a'.repeat(40), ref: 'edit', repo: { full_name: options.fork ? 'someone/fork' : repository } },
        base: { ref: 'main', repo: { full_name: repository } },
      },
      repository: { full_name: repository },
    }),
  );
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: path,
    GITHUB_API_URL: apiUrl,
    GITHUB_REPOSITORY: repository,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
  };
}
