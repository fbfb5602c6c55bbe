import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { ValueError, ValueErrorIterator } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { LookoutError } from './errors.js';

/**
 * A payload failed its schema: an `invalid_request` LookoutError whose `field` is a
 * JSON-pointer-like path ("faces/0/box") and `what` names the payload.
 */
export class ValidationError extends LookoutError {
  declare readonly field: string;
  constructor(
    readonly what: string,
    field: string,
    detail: string,
  ) {
    super('invalid_request', `${what}: ${field === '' ? '(root)' : field}: ${detail}`, field);
    this.name = 'ValidationError';
  }
}

export interface Validator<T extends TSchema> {
  /** Names the payload in error messages. */
  readonly what: string;
  readonly schema: T;
  /** True when the value matches; narrows its type. */
  is(value: unknown): value is Static<T>;
  /** Returns the value typed, or throws a ValidationError naming the first bad field. */
  parse(value: unknown): Static<T>;
}

/**
 * True in the web app's build (vite.config.ts `define`): the gateway serves the app with a
 * Content-Security-Policy without 'unsafe-eval', and the compiler builds its checks with
 * `new Function`. There the schemas are checked by TypeBox's interpreter instead: the
 * same schemas and errors, slower, which a browser's few messages a second do not notice.
 */
declare const __LOOKOUT_NO_EVAL__: boolean | undefined;
const INTERPRETED = typeof __LOOKOUT_NO_EVAL__ !== 'undefined' && __LOOKOUT_NO_EVAL__ === true;

type Checker<T extends TSchema> = Pick<TypeCheck<T>, 'Check'> & { Errors(value: unknown): ValueErrorIterator };

function checker<T extends TSchema>(schema: T): Checker<T> {
  if (!INTERPRETED) return TypeCompiler.Compile(schema);
  return { Check: (value: unknown): value is Static<T> => Value.Check(schema, value), Errors: (value: unknown) => Value.Errors(schema, value) };
}

/** Compiles a schema once; `what` names the payload in error messages. */
export function validator<T extends TSchema>(what: string, schema: T): Validator<T> {
  const check = checker(schema);
  return {
    what,
    schema,
    is: (value: unknown): value is Static<T> => check.Check(value),
    parse(value: unknown): Static<T> {
      if (check.Check(value)) return value;
      const first = mostSpecific(check.Errors(value).First());
      const field = first ? first.path.replace(/^\//, '') : '';
      throw new ValidationError(what, field, first?.message ?? 'does not match the schema');
    },
  };
}

/**
 * A union reports "expected union value" at its own path, which names no field. Descend
 * into the variants: a variant whose tag (a literal such as `type`) does not match is the
 * wrong one; among the others report the deepest error, i.e. the bad field of the variant
 * the sender meant. When no variant's tag matches, the tag itself is the bad field.
 */
function mostSpecific(error: ValueError | undefined): ValueError | undefined {
  if (!error || error.errors.length === 0) return error;
  let best = error;
  let bestRank = -Infinity;
  for (const variant of error.errors) {
    const all = [...variant];
    const tagMismatch = all.find((e) => 'const' in e.schema);
    const candidate = tagMismatch ?? mostSpecific(all[0]);
    if (!candidate) continue;
    const rank = candidate.path.split('/').length - (tagMismatch ? 100 : 0);
    if (rank > bestRank) {
      best = candidate;
      bestRank = rank;
    }
  }
  return best;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Decodes a JSON message body and validates it. Errors name the payload and field. */
export function decodeJson<T extends TSchema>(v: Validator<T>, data: Uint8Array): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new ValidationError(v.what, '', `not valid JSON (${(err as Error).message})`);
  }
  return v.parse(value);
}

/** Validates (so no service can publish a malformed payload) and encodes as JSON. */
export function encodeJson<T extends TSchema>(v: Validator<T>, value: Static<T>): Uint8Array {
  return encoder.encode(JSON.stringify(v.parse(value)));
}
