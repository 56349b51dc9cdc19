// Types of the precompiled validators (scripts/build-validators.mjs).
import type { ValidateFunction } from 'ajv';
export const config: ValidateFunction;
export const preset: ValidateFunction;
