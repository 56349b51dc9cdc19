/**
 * Collects one program's metadata as the reference app's "Export JSON" does (pca-reference.md), in a
 * handful of requests whatever the program's size: the dependency export, the program sections, and only
 * the legend sets the export references (fetched by id).
 */
import { resolveTransform } from '../config/presets.ts';
import type { Config, ProgramEntry, ProgramKind } from '../config/types.ts';
import type { Dhis2Client } from '../dhis2/client.ts';
import { ConfigError } from '../errors.ts';
import { assembleExport, referencedLegendSetIds } from '../metadata/assemble.ts';
import { canonicalJson } from '../metadata/canonical.ts';
import { programKind } from '../metadata/program-kind.ts';
import { transformExport } from '../metadata/transform.ts';
import { collection, type MetadataDocument } from '../metadata/types.ts';

// The reference app asks for `name,id,attributeValues,legends,translations`; `:owner` is the import shape
// (legends embedded whole, with start/end values and colours), as the dependency export uses.
const LEGEND_SET_FIELDS = ':owner';

/**
 * `dependencyExport`: the program's dependency export when the caller already read it (restore keeps the one
 * it planned against as its rollback point, rather than reading the whole program again).
 */
export async function collectProgram(
  client: Dhis2Client,
  programId: string,
  dependencyExport?: MetadataDocument,
): Promise<MetadataDocument> {
  const [dependency, programSections] = await Promise.all([
    dependencyExport ?? client.getProgramMetadata(programId),
    // Missing from the dependency export before dhis2-core PR #15903.
    client.getCollection('programSections', { filter: `program.id:eq:${programId}`, fields: ':owner' }),
  ]);
  const legendSetIds = referencedLegendSetIds({ ...dependency, programSections });
  const legendSets =
    legendSetIds.length > 0 ? await client.getObjects('legendSets', legendSetIds, LEGEND_SET_FIELDS) : [];
  return assembleExport({
    dependencyExport: dependency,
    programSections,
    legendSets,
    referencedLegendSets: legendSetIds,
  });
}

/** One program as export writes it: collected, transformed by the config's (or the given) target preset. */
export async function buildExport(
  client: Dhis2Client,
  config: Config,
  entry: ProgramEntry,
  dependencyExport?: MetadataDocument,
): Promise<{
  doc: MetadataDocument;
  text: string;
  kind: ProgramKind;
  preset: string;
  name?: string;
  /** The collected export before the preset: it still has the server's stamps (lastUpdated, lastUpdatedBy). */
  raw: MetadataDocument;
}> {
  const raw = await collectProgram(client, entry.id, dependencyExport);
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
