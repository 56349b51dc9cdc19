import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redact } from '../util/secrets.ts';

/** Writes a command's full JSON report (redacted) into the report folder and returns its path. */
export function writeReport(reportDir: string, name: string, report: unknown): string {
  mkdirSync(reportDir, { recursive: true });
  const path = join(reportDir, name);
  writeFileSync(path, `${redact(JSON.stringify(report, null, 2))}\n`);
  return path;
}
