/**
 * `export`: each program of the config into its file, as the reference app's "Export JSON" does, done
 * better (pca-reference.md): collected in a handful of requests, transformed in the app's order, written
 * as canonical JSON so that an unchanged server gives byte-identical files, and only rewritten (and
 * committed) when the content really changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { resolveTransform } from '../config/presets.ts';
import type { Config, ProgramEntry, ProgramKind, Settings } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { ConfigError, isUserError, type UserError } from '../errors.ts';
import { artifactName, uploadArtifact } from '../github/artifact.ts';
import { commitAndPush } from '../github/git.ts';
import { formatBytes, table } from '../github/markdown.ts';
import { canonicalJson, sameContent } from '../metadata/canonical.ts';
import { programKind } from '../metadata/program-kind.ts';
import { transformExport } from '../metadata/transform.ts';
import { collection, type MetadataDocument } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { collectProgram } from './collect.ts';
import { connect } from './connect.ts';
import { eachProgram } from './each-program.ts';
import { writeReport } from './report-file.ts';
import { resolveInside } from '../util/paths.ts';

/** Programs exported at once: a few requests each, so 4 keeps a server busy without flooding it. */
export const EXPORT_CONCURRENCY = 4;

export interface ProgramExport {
  id: string;
  file: string;
  name?: string;
  kind?: string;
  preset?: string;
  changed?: boolean;
  bytes?: number;
  objects?: Record<string, number>;
  error?: string;
}

export interface ExportReport {
  command: 'export';
  server: { url: string; version: string };
  programs: ProgramExport[];
  changed: boolean;
  files: string[];
  commit?: { sha?: string; branch?: string; rebased: boolean };
}

/** Counts objects per top-level collection (the summary table). */
export function objectCounts(doc: MetadataDocument): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(doc)) if (Array.isArray(value)) counts[key] = value.length;
  return counts;
}

function programFile(settings: Settings, entry: ProgramEntry): string {
  const inside = resolveInside(settings.workspace, entry.file);
  // The config schema already refuses such paths; this guards the write itself.
  if (!inside) {
    throw new ConfigError(`programs: file "${entry.file}" leaves the workspace`, {
      file: settings.config.path,
      line: entry.line,
    });
  }
  return inside.abs;
}

/** One program as export writes it: collected, transformed by the config's (or the given) target preset. */
export async function buildExport(
  client: Dhis2Client,
  config: Config,
  entry: ProgramEntry,
): Promise<{ doc: MetadataDocument; text: string; kind: ProgramKind; preset: string; name?: string }> {
  const raw = await collectProgram(client, entry.id);
  const program = collection(raw, 'programs').find((p) => p.id === entry.id);
  const kind = programKind(raw, entry.id);
  let transform;
  try {
    transform = resolveTransform(config, kind, entry.id);
  } catch (e) {
    // Point the error at the program's entry in the config.
    if (e instanceof ConfigError) throw new ConfigError(e.message, { file: config.path, line: entry.line });
    throw e;
  }
  const doc = transformExport(raw, transform);
  return {
    doc,
    text: canonicalJson(doc),
    kind,
    preset: transform.preset.name,
    name: typeof program?.name === 'string' ? program.name : undefined,
  };
}

export async function exportOne(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
): Promise<{ result: ProgramExport; text: string }> {
  const { doc, text, kind, preset, name } = await buildExport(client, settings.config, entry);
  const path = programFile(settings, entry);
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  // Volatile stamps (export date, system revision) don't count: an unchanged program is not rewritten.
  const changed = previous === undefined || (previous !== text && !sameContent(previous, text));
  if (changed) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return {
    text,
    result: {
      id: entry.id,
      file: relative(settings.workspace, path),
      name,
      kind,
      preset,
      changed,
      bytes: Buffer.byteLength(text),
      objects: objectCounts(doc),
    },
  };
}

function summaryMarkdown(report: ExportReport): string {
  const lines = [`### DHIS2 export from ${report.server.url} (DHIS2 ${report.server.version})`, ''];
  const rows = report.programs.map((p) => [
    p.name ? `${p.name} (\`${p.id}\`)` : `\`${p.id}\``,
    p.file,
    p.preset ?? '',
    p.error ? 'failed' : p.changed ? 'changed' : 'unchanged',
    p.bytes !== undefined ? formatBytes(p.bytes) : '',
  ]);
  lines.push(table(['program', 'file', 'preset', 'result', 'size'], rows), '');
  for (const p of report.programs) {
    if (p.error) {
      lines.push(`**${p.id}** failed: ${p.error}`, '');
      continue;
    }
    const counts = Object.entries(p.objects ?? {}).filter(([, n]) => n > 0);
    lines.push(
      `<details><summary>${p.name ?? p.id}: ${counts.reduce((s, [, n]) => s + n, 0)} objects</summary>`,
      '',
      table(
        ['objects', 'count'],
        counts.map(([k, n]) => [k, n]),
        ['left', 'right'],
      ),
      '',
      '</details>',
      '',
    );
  }
  if (report.commit?.sha) {
    lines.push(`Committed ${report.commit.sha.slice(0, 7)} on ${report.commit.branch}.`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function defaultCommitMessage(report: ExportReport, changed: ProgramExport[]): string {
  const names = changed.map((p) => p.name ?? p.id);
  const subject =
    names.length <= 3
      ? `Export ${names.join(', ')} from DHIS2 ${report.server.version}`
      : `Export ${names.length} programs from DHIS2 ${report.server.version}`;
  const body = changed.map((p) => `- ${p.name ?? p.id} (${p.id}): ${p.file}`).join('\n');
  return `${subject}\n\nServer: ${report.server.url}\n${body}\n`;
}

export async function runExport(settings: Settings, reporter: Reporter): Promise<boolean> {
  const client = await connect(settings, reporter);
  const results = await eachProgram(
    settings.programs.map((entry) => ({ entry })),
    reporter,
    EXPORT_CONCURRENCY,
    async ({ entry }): Promise<ProgramExport> => {
      const { result } = await exportOne(client, settings, entry);
      reporter.info(
        `${result.name ?? result.id} (${result.id}): ${result.changed ? 'changed, written to' : 'unchanged'} ${result.file}`,
      );
      return result;
    },
    ({ entry }, error) => ({ id: entry.id, file: entry.file, error }),
  );

  const written = results.filter((r) => r.changed && !r.error);
  const report: ExportReport = {
    command: 'export',
    server: { url: client.url, version: client.system.version },
    programs: results,
    changed: written.length > 0,
    files: written.map((r) => r.file),
  };

  let commitError: UserError | undefined;
  if (settings.commit) {
    if (written.length === 0) {
      reporter.info('Nothing changed: no commit.');
    } else {
      try {
        const outcome = await commitAndPush({
          cwd: settings.workspace,
          files: written.map((r) => r.file),
          message: settings.commitMessage ?? defaultCommitMessage(report, written),
          log: (m) => reporter.info(m),
        });
        report.commit = { sha: outcome.sha, branch: outcome.branch, rebased: outcome.rebased };
      } catch (e) {
        // The files are written: report them (outputs, summary, artifact) and fail at the end.
        if (!isUserError(e)) throw e;
        commitError = e;
      }
    }
  }

  const exported = results.filter((r) => !r.error).map((r) => r.file);
  if (settings.github.runtimeToken && exported.length > 0) {
    const id = createHash('sha1').update(settings.config.path).update(exported.join()).digest('hex').slice(0, 8);
    const name = artifactName('dhis2-metadata-export', [id]);
    try {
      await uploadArtifact(
        name,
        exported.map((f) => resolve(settings.workspace, f)),
        settings.workspace,
      );
      reporter.info(`Uploaded the exported files as artifact ${name}.`);
    } catch (e) {
      // The files are written (and committed): a failed upload is worth a warning, not a failed export.
      reporter.warning((e as Error).message);
    }
  } else if (settings.inAction) {
    reporter.notice('Artifact upload skipped: not running inside a GitHub runner (no ACTIONS_RUNTIME_TOKEN).');
  }

  const reportPath = writeReport(settings, 'export', report);
  reporter.setOutput('changed', String(report.changed));
  reporter.setOutput('files', JSON.stringify(report.files));
  reporter.setOutput('report', reportPath);
  await reporter.summary(summaryMarkdown(report));

  if (commitError) throw commitError;
  const failed = results.filter((r) => r.error);
  if (failed.length > 0) {
    reporter.info(
      `Export failed for ${failed.length} of ${results.length} programs: ${failed.map((f) => f.id).join(', ')}`,
    );
    return false;
  }
  return true;
}
