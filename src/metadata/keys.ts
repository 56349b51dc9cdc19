import configSchema from '../../schema/config.schema.json' with { type: 'json' };
import type { RemovalGroup } from '../config/types.ts';

/**
 * THE list of top-level keys of a metadata document this product knows: DHIS2's collection names (plural,
 * as a document holds them) plus `system` and `date`. Defined once, in the config schema (editors read it
 * there too: `objects:` and the keys of `attributes:` must be one of them); the restore elements
 * (ELEMENT_COLLECTIONS), the presets' dropObjects and the emulator's collections are tested against it.
 */
export const METADATA_KEYS: readonly string[] = configSchema.definitions.metadataKey.enum;

/**
 * The JSON keys each removal group removes, at any depth (the reference app's JSON_ATTRIBUTE_SETTINGS,
 * pca-reference.md). Sharing also removes the legacy sharing keys, which the reference app leaves
 * behind: DHIS2 up to 2.40 serializes them and 2.41+ ignores them on import, so leaving them in a file
 * that was meant to carry no sharing is a leak of who had access.
 */
/** Legacy access keys: mirrors of `sharing` up to 2.40, ignored on import from 2.41. */
export const LEGACY_ACCESS_KEYS = ['publicAccess', 'externalAccess', 'userAccesses', 'userGroupAccesses'] as const;

export const REMOVAL_KEYS: Record<RemovalGroup, readonly string[]> = {
  sharing: ['sharing', ...LEGACY_ACCESS_KEYS],
  organisationUnits: ['organisationUnits'],
  userFields: ['createdBy', 'lastUpdatedBy'],
  dates: ['date', 'created', 'lastUpdated'],
  categories: [
    'category',
    'categoryCombo',
    'categoryOptionCombo',
    'categoryOption',
    'categories',
    'categoryCombos',
    'categoryOptionCombos',
    'categoryOptions',
  ],
  legendSets: ['legend', 'legends', 'legendSet', 'legendSets'],
};
