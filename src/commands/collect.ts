/**
 * Collects one program's metadata as the reference app's "Export JSON" does (pca-reference.md), in a
 * handful of requests whatever the program's size: the dependency export, the program sections, and only
 * the legend sets the export references (fetched by id).
 */
import type { Dhis2Client } from '../dhis2/client.ts';
import { assembleExport, referencedLegendSetIds } from '../metadata/assemble.ts';
import type { MetadataDocument } from '../metadata/types.ts';

// The reference app asks for `name,id,attributeValues,legends,translations`; `:owner` is the import shape
// (legends embedded whole, with start/end values and colours), as the dependency export uses.
const LEGEND_SET_FIELDS = ':owner';

export async function collectProgram(client: Dhis2Client, programId: string): Promise<MetadataDocument> {
  const [dependencyExport, programSections] = await Promise.all([
    client.getProgramMetadata(programId),
    // Missing from the dependency export before dhis2-core PR #15903.
    client.getCollection('programSections', { filter: `program.id:eq:${programId}`, fields: ':owner' }),
  ]);
  const legendSetIds = referencedLegendSetIds({ ...dependencyExport, programSections });
  const legendSets =
    legendSetIds.length > 0 ? await client.getObjects('legendSets', legendSetIds, LEGEND_SET_FIELDS) : [];
  return assembleExport({ dependencyExport, programSections, legendSets });
}
