/**
 * Collects one program's metadata as the reference app's "Export JSON" does (pca-reference.md), in a
 * handful of requests whatever the program's size: the dependency export, the program sections, and only
 * the legend sets the export references (fetched by id).
 */
import { resolveTransform } from '../config/presets.ts';
import type { Config, ProgramEntry, ProgramKind } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { ConfigError, Dhis2Error } from '../errors.ts';
import { assembleExport, referencedLegendSetIds, type ExportParts } from '../metadata/assemble.ts';
import { canonicalJson } from '../metadata/canonical.ts';
import { programKind } from '../metadata/program-kind.ts';
import { transformExport } from '../metadata/transform.ts';
import { collection, type MetadataDocument } from '../metadata/types.ts';

// The reference app asks for `name,id,attributeValues,legends,translations`; `:owner` is the import shape
// (legends embedded whole, with start/end values and colours), as the dependency export uses.
const LEGEND_SET_FIELDS = ':owner';

/**
 * What export assembles one program from (assemble.ts ExportParts), read in two rounds: the dependency export
 * (`dependency`, which the caller may already have asked for) and the program sections at once, then the
 * legend sets the two reference. Undefined when `dependency` is (the server has no such program).
 */
export async function readExportParts(
  client: Dhis2Client,
  programId: string,
  dependency: MetadataDocument | Promise<MetadataDocument | undefined>,
): Promise<ExportParts | undefined> {
  // Missing from the dependency export before dhis2-core PR #15903.
  const sections = client.getCollection('programSections', { filter: `program.id:eq:${programId}`, fields: ':owner' });
  sections.catch(() => {}); // awaited below, unless the dependency export failed first
  const dependencyExport = await dependency;
  if (dependencyExport === undefined) return undefined;
  const programSections = await sections;
  const legendSetIds = referencedLegendSetIds({ ...dependencyExport, programSections });
  const legendSets =
    legendSetIds.length > 0 ? await client.getObjects('legendSets', legendSetIds, LEGEND_SET_FIELDS) : [];
  return { dependencyExport, programSections, legendSets, referencedLegendSets: legendSetIds };
}

/**
 * `parts`: what readExportParts read, when the caller started it (restore reads them beside its plan, for the
 * rollback point, rather than after it).
 */
export async function collectProgram(
  client: Dhis2Client,
  programId: string,
  parts?: Promise<ExportParts | undefined>,
): Promise<MetadataDocument> {
  const read = await (parts ?? readExportParts(client, programId, client.getProgramMetadata(programId)));
  if (read === undefined) throw new Dhis2Error(`program ${programId} is not on the server`, 404);
  return assembleExport(read);
}

/** One program as export writes it: collected, transformed by the config's (or the given) target preset. */
export async function buildExport(
  client: Dhis2Client,
  config: Config,
  entry: ProgramEntry,
  parts?: Promise<ExportParts | undefined>,
): Promise<{
  doc: MetadataDocument;
  text: string;
  kind: ProgramKind;
  preset: string;
  name?: string;
  /** The collected export before the preset: it still has the server's stamps (lastUpdated, lastUpdatedBy). */
  raw: MetadataDocument;
}> {
  const raw = await collectProgram(client, entry.id, parts);
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
    raw,
  };
}
