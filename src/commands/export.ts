/**
 * `export`: each program of the config into its file, as the reference app's "Export JSON" does, done
 * better (pca-reference.md): collected in a handful of requests, transformed in the app's order, written
 * as canonical JSON so that an unchanged server gives byte-identical files, and only rewritten (and
 * committed) when the content really changed. With `commit: pull-request` the changes go to a branch and one
 * pull request instead (src/steps/export-pull-request.ts).
 */
import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import type { ProgramEntry, Settings } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { ConfigError, isUserError, type UserError } from '../errors.ts';
import { artifactName, uploadArtifact } from '../github/artifact.ts';
import { commitAndPush } from '../github/git.ts';
import { blocks, cell, code, formatBytes, md, programLabel, table } from '../github/markdown.ts';
import { commitLine } from '../util/text.ts';
import { sameContent } from '../metadata/canonical.ts';
import { objectCounts, type MetadataDocument } from '../metadata/types.ts';
import type { Reporter } from '../reporter.ts';
import { buildExport } from '../steps/collect-program.ts';
import { connect } from '../steps/connect.ts';
import { eachProgram } from '../steps/each-program.ts';
import { writeReport } from '../report/report-file.ts';
import { exportPullRequest, type ExportedProgram, type PullRequestOutcome } from '../steps/export-pull-request.ts';
import { readTextInside, resolveInside, workspaceBoundary, writeTextInside } from '../util/paths.ts';
import { refuseSecret } from '../util/secrets.ts';

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
  /** `commit: pull-request`: the pull request opened, updated or closed. */
  pullRequest?: PullRequestOutcome;
}

/** Counts objects per top-level collection (the summary table). */
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

export async function exportOne(
  client: Dhis2Client,
  settings: Settings,
  entry: ProgramEntry,
): Promise<{ result: ProgramExport; text: string; doc: MetadataDocument; raw: MetadataDocument }> {
  const { doc, text, kind, preset, name, raw } = await buildExport(client, settings.config, entry);
  // The file is committed as it is: never with a secret in it (and never redacted, which would change it).
  refuseSecret(text, "the server's metadata of the program");
  const path = programFile(settings, entry);
  // Real paths, read and write: a link in the workspace never leads the export out of it.
  const boundary = workspaceBoundary(settings.workspace);
  const previous = readTextInside(boundary, path, 'file');
  // Volatile stamps (export date, system revision) don't count: an unchanged program is not rewritten.
  const changed = previous === undefined || (previous !== text && !sameContent(previous, text));
  if (changed) writeTextInside(boundary, path, text, 'file');
  return {
    text,
    doc,
    raw,
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
  const lines = [md`### DHIS2 export from ${report.server.url} (DHIS2 ${report.server.version})`.text, ''];
  const rows = report.programs.map((p) => [
    programLabel(p.id, p.name),
    p.file,
    p.preset ?? '',
    p.error ? 'failed' : p.changed ? 'changed' : 'unchanged',
    p.bytes !== undefined ? formatBytes(p.bytes) : '',
  ]);
  lines.push(table(['program', 'file', 'preset', 'result', 'size'], rows), '');
  for (const p of report.programs) {
    if (p.error) {
      lines.push(md`**${p.id}** failed: ${p.error}`.text, '');
      continue;
    }
    const counts = Object.entries(p.objects ?? {}).filter(([, n]) => n > 0);
    lines.push(
      `<details><summary>${cell(p.name ?? p.id)}: ${counts.reduce((s, [, n]) => s + n, 0)} objects</summary>`,
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
    lines.push(md`Committed ${report.commit.sha.slice(0, 7)} on ${report.commit.branch}.`.text);
  }
  const pr = report.pullRequest;
  if (pr) {
    const link =
      pr.number !== undefined && pr.url && /^https?:\/\/[^\s()<>]+$/.test(pr.url)
        ? `[#${pr.number}](${pr.url})`
        : pr.number !== undefined
          ? `#${pr.number}`
          : '';
    const what: Record<PullRequestOutcome['action'], string> = {
      opened: `Opened pull request ${link}`,
      updated: `Updated pull request ${link}`,
      unchanged: `Pull request ${link} is up to date`,
      closed: `The server matches ${code(pr.base).text} again: closed pull request ${link} and deleted ${code(pr.branch).text}`,
      none: `The server matches ${code(pr.base).text}: no pull request`,
    };
    const sha = pr.sha ? md` (${code(pr.branch)} at ${pr.sha.slice(0, 7)})`.text : '';
    lines.push(`${what[pr.action]}${pr.action === 'closed' || pr.action === 'none' ? '' : sha}.`);
  }
  // Each entry its own block (blocks()): the commit line and the pull request line are two paragraphs.
  return `${blocks(...lines)}\n`;
}

function defaultCommitMessage(
  report: Pick<ExportReport, 'server'>,
  changed: Pick<ProgramExport, 'id' | 'name' | 'file'>[],
): string {
  // Names and the server's version are untrusted: each goes in as one line (no forged trailers).
  const names = changed.map((p) => commitLine(p.name ?? p.id));
  const version = commitLine(report.server.version);
  const subject =
    names.length <= 3
      ? `Export ${names.join(', ')} from DHIS2 ${version}`
      : `Export ${names.length} programs from DHIS2 ${version}`;
  const body = changed.map((p) => `- ${commitLine(`${p.name ?? p.id} (${p.id}): ${p.file}`)}`).join('\n');
  return `${subject}\n\nServer: ${commitLine(report.server.url)}\n${body}\n`;
}

export async function runExport(settings: Settings, reporter: Reporter): Promise<boolean> {
  const client = await connect(settings, reporter);
  // commit: pull-request compares each export with the repository: keep what that needs.
  const exported = new Map<string, ExportedProgram>();
  const results = await eachProgram(
    settings.programs.map((entry) => ({ entry })),
    reporter,
    EXPORT_CONCURRENCY,
    async ({ entry }): Promise<ProgramExport> => {
      const { result, text, doc, raw } = await exportOne(client, settings, entry);
      if (settings.pullRequest) {
        exported.set(entry.id, { id: entry.id, name: result.name, file: result.file, text, doc, raw });
      }
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

  if (settings.pullRequest) {
    const failedCount = results.filter((r) => r.error).length;
    if (failedCount > 0) {
      reporter.warning(
        `The pull request and ${settings.pullRequest.branch} are left as they are: ${failedCount} of ${results.length} programs failed to export.`,
      );
    } else {
      try {
        report.pullRequest = await exportPullRequest({
          settings,
          reporter,
          programs: results.flatMap((r) => exported.get(r.id) ?? []),
          server: report.server,
          message: (differing) => settings.commitMessage ?? defaultCommitMessage(report, differing),
        });
      } catch (e) {
        if (!isUserError(e)) throw e;
        commitError = e;
      }
    }
    // Empty when nothing differs (no pull request, or the one that was open is closed now).
    const open = report.pullRequest && !['closed', 'none'].includes(report.pullRequest.action);
    reporter.setOutput('pull-request-number', open ? String(report.pullRequest?.number ?? '') : '');
    reporter.setOutput('pull-request-url', open ? (report.pullRequest?.url ?? '') : '');
  }

  const exportedFiles = results.filter((r) => !r.error).map((r) => r.file);
  if (settings.github.runtimeToken && exportedFiles.length > 0) {
    const id = createHash('sha1').update(settings.config.path).update(exportedFiles.join()).digest('hex').slice(0, 8);
    const name = artifactName('dhis2-metadata-export', [id]);
    try {
      await uploadArtifact(
        name,
        exportedFiles.map((f) => resolve(settings.workspace, f)),
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
