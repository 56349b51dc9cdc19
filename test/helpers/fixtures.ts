import { readFileSync } from 'node:fs';
import type { MetadataDocument } from '../../src/metadata/types.ts';

const FIXTURES = new URL('../fixtures/dhis2/', import.meta.url);

/** A real DHIS2 metadata document from test/fixtures/dhis2/ (SOURCES.txt says where each comes from), parsed anew. */
export const fixture = (name: string): MetadataDocument => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

/** The text of a fixture, as a metadata file holds it. */
export const fixtureText = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
