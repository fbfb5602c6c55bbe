import { Type, type Static } from '@sinclair/typebox';
import { LookoutError } from './errors.js';

/**
 * Room, stream and peer ids become NATS subject tokens, KV keys and URL path segments.
 * The alphabet excludes '.', '*', '>', '/', whitespace and everything else that could
 * split a subject, inject a wildcard or escape a path.
 */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const ID_REGEX = new RegExp(ID_PATTERN);

export const Id = Type.String({
  pattern: ID_PATTERN,
  description: '1–64 characters from A–Z, a–z, 0–9, "_" and "-"',
});
export type Id = Static<typeof Id>;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_REGEX.test(value);
}

export class InvalidIdError extends LookoutError {
  declare readonly field: string;
  constructor(field: string, value: unknown) {
    super('invalid_request', `${field}: invalid id ${JSON.stringify(value)}; expected 1–64 characters from [A-Za-z0-9_-]`, field);
    this.name = 'InvalidIdError';
  }
}

/** Throws an error naming `field` unless `value` is a valid id. */
export function assertId(field: string, value: unknown): asserts value is string {
  if (!isId(value)) throw new InvalidIdError(field, value);
}
