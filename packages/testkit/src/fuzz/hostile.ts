import fc from 'fast-check';
import type { TSchema } from '@sinclair/typebox';
import type { Validator } from '@lookout/contracts';

/**
 * Generators of hostile input for the fuzz suite (fast-check): payloads (JSON values,
 * JSON text, raw bytes) and NATS headers, built either from nothing or by mutating one
 * field of a valid message built from its contracts schema.
 */

/** One payload as it goes on the wire, and how it was made (for the summary and failures). */
export interface Payload {
  bytes: Uint8Array;
  /** The generator that made it: `json`, `text`, `bytes`, `mutation:<path>`, … */
  how: string;
}

const enc = new TextEncoder();

/** Strings that mean something to a parser, a path, a subject, an object or a template. */
export const NASTY_STRINGS = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'undefined',
  'true',
  '-1',
  '1e309',
  '0x10',
  '9007199254740993',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
  '../../etc/passwd',
  'a.b',
  '*',
  '>',
  'frames.>',
  '$SYS',
  '\u0000',
  '\ud800',
  '\u202e',
  '😀',
  '%00',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  "'; DROP TABLE x; --",
  'a\r\nb',
  'x'.repeat(65),
  'y'.repeat(4097),
] as const;

/** Any string, biased to the nasty ones; `big` adds oversize strings (up to 300 KB). */
export function hostileString(big = true): fc.Arbitrary<string> {
  const arbs: Array<fc.Arbitrary<string>> = [fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })];
  if (big) arbs.push(fc.integer({ min: 1000, max: 300_000 }).map((n) => 'Z'.repeat(n)));
  return fc.oneof(...arbs);
}

/** Numbers JSON can carry that no schema expects: negative, fractional, huge, tiny, unsafe. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, -0, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 2 ** 64, 5e-324, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A JSON value nested `depth` deep (arrays or objects). */
export function nested(depth: number, object: boolean): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = object ? { a: v } : [v];
  return v;
}

/** Objects whose keys are the ones that pollute prototypes when merged carelessly. */
export const pollution: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(
  JSON.parse('{"__proto__":{"polluted":true,"isAdmin":true}}') as Record<string, unknown>,
  JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as Record<string, unknown>,
  JSON.parse('{"__proto__":null,"toString":1,"valueOf":"x","hasOwnProperty":false}') as Record<string, unknown>,
);

/** Any JSON value, hostile ones favoured: wrong types, deep nesting, pollution keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString() },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': '' }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).chain((d) => fc.boolean().map((o) => nested(d, o))) },
  { weight: 1, arbitrary: pollution },
);

/** JSON text that is broken or means what JSON.parse turns into something odd. */
export const brokenJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '{', '[', '{"a":', 'null', '"x"', '1e999', '-1e999', '{"a":1e999}', 'NaN', 'undefined', '{a:1}', "{'a':1}", '{"a":1,}', '\ufeff{}', '{"__proto__":', '\u0000'),
  fc.integer({ min: 1000, max: 60_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => '{"a":'.repeat(n) + '0' + '}'.repeat(n)),
  fc.string({ maxLength: 200 }),
);

/** Raw bytes: random, a JPEG's first bytes with junk behind, or invalid UTF-8. */
export const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0xff, 0xd8, 0xff, ...b])),
  fc.constant(Uint8Array.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc])),
  fc.integer({ min: 70_000, max: 400_000 }).map((n) => new Uint8Array(n).fill(0x41)),
);

// ---- valid examples from a TypeBox (JSON Schema) schema ----

type Schema = TSchema & Record<string, unknown>;
const ID_EXAMPLE = 'fuzz';

/**
 * A value that satisfies `schema`: the smallest sensible one, with optional properties and
 * one element per array present (so that a mutation has every field to aim at).
 */
export function example(schema: TSchema): unknown {
  const s = schema as Schema;
  if ('const' in s) return s.const;
  if (Array.isArray(s.anyOf)) return example(s.anyOf[0] as TSchema);
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, TSchema>;
      for (const [k, p] of Object.entries(props)) out[k] = example(p);
      // Records (patternProperties) get one entry.
      const pattern = s.patternProperties as Record<string, TSchema> | undefined;
      if (pattern && Object.keys(props).length === 0) {
        const [[, vs]] = Object.entries(pattern) as [[string, TSchema]];
        out.k = example(vs);
      }
      return out;
    }
    case 'array': {
      if (Array.isArray(s.prefixItems)) return (s.prefixItems as TSchema[]).map(example);
      if (Array.isArray(s.items)) return (s.items as TSchema[]).map(example);
      const n = Math.max(1, (s.minItems as number | undefined) ?? 0);
      return Array.from({ length: Math.min(n, (s.maxItems as number | undefined) ?? n) }, () => example(s.items as TSchema));
    }
    case 'string': {
      if (s.pattern) return ID_EXAMPLE;
      return 'x'.repeat(Math.max(1, (s.minLength as number | undefined) ?? 1));
    }
    case 'integer':
    case 'number': {
      const min = (s.minimum as number | undefined) ?? (s.exclusiveMinimum !== undefined ? (s.exclusiveMinimum as number) + 1 : 0);
      const max = (s.maximum as number | undefined) ?? Infinity;
      return Math.min(Math.max(min, 1), max);
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return {};
  }
}

/** `example(schema)` with `patch` laid over it; throws when the result is not valid. */
export function validExample<T extends TSchema>(v: Validator<T>, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const value = { ...(example(v.schema) as Record<string, unknown>), ...patch };
  v.parse(value);
  return value;
}

/** Every path (keys and indexes) in a JSON value, the root excluded. */
export function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      paths(v, [...prefix, i], out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      paths(v, [...prefix, k], out);
    }
  }
  return out;
}

function setAt(root: unknown, path: Array<string | number>, op: 'set' | 'delete', value?: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (op === 'delete') {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** A valid message with one thing wrong: a field replaced, removed, added, duplicated, or the text cut short. */
export function mutation(valid: unknown): fc.Arbitrary<Payload> {
  const all = paths(valid);
  const json = JSON.stringify(valid);
  const label = (p: Array<string | number>) => p.join('/');
  const arbs: Array<fc.Arbitrary<Payload>> = [
    // An extra key: a pollution key, or any.
    fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', ''), hostileValue).map(([k, v]) => ({
      bytes: enc.encode(json.replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}${json === '{}' ? '' : ','}`)),
      how: `mutation:add:${k}`,
    })),
    // The JSON text cut anywhere.
    fc.integer({ min: 0, max: Math.max(0, json.length - 1) }).map((n) => ({ bytes: enc.encode(json.slice(0, n)), how: 'mutation:truncate' })),
    // The whole message wrapped, or as a string.
    fc.constantFrom(`[${json}]`, JSON.stringify(json), `{"data":${json}}`).map((t) => ({ bytes: enc.encode(t), how: 'mutation:wrap' })),
  ];
  if (all.length > 0) {
    const path = fc.constantFrom(...all);
    arbs.push(
      // One field replaced by a hostile value: the most common case, so weighted by repetition.
      fc.tuple(path, hostileValue).map(([p, v]) => ({ bytes: enc.encode(JSON.stringify(setAt(valid, p, 'set', v))), how: `mutation:set:${label(p)}` })),
      fc.tuple(path, hostileValue).map(([p, v]) => ({ bytes: enc.encode(JSON.stringify(setAt(valid, p, 'set', v))), how: `mutation:set:${label(p)}` })),
      fc.tuple(path, fc.constantFrom(...NASTY_STRINGS)).map(([p, v]) => ({ bytes: enc.encode(JSON.stringify(setAt(valid, p, 'set', v))), how: `mutation:set:${label(p)}` })),
      fc.tuple(path, fc.constantFrom('1e999', '-1e999', '1e400', 'NaN', '-0', '1.5', '99999999999999999999')).map(([p, raw]) => {
        const marker = '"\u0001RAW\u0001"';
        return { bytes: enc.encode(JSON.stringify(setAt(valid, p, 'set', '\u0001RAW\u0001')).replace(marker, raw)), how: `mutation:raw:${label(p)}` };
      }),
      path.map((p) => ({ bytes: enc.encode(JSON.stringify(setAt(valid, p, 'delete'))), how: `mutation:delete:${label(p)}` })),
      // A top-level key given twice (JSON.parse keeps the last).
      fc.tuple(fc.constantFrom(...all.filter((p) => p.length === 1)), hostileValue).map(([p, v]) => ({
        bytes: enc.encode(json.replace(/\}$/, `,${JSON.stringify(p[0])}:${JSON.stringify(v) ?? 'null'}}`)),
        how: `mutation:duplicate:${label(p)}`,
      })),
    );
  }
  return fc.oneof(...arbs);
}

/** Hostile JSON payloads: mostly mutations of `valid`, the rest anything at all. */
export function hostilePayload(valid: unknown): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 6, arbitrary: mutation(valid) },
    { weight: 1, arbitrary: hostileValue.map((v) => ({ bytes: enc.encode(JSON.stringify(v) ?? 'null'), how: 'json' })) },
    { weight: 1, arbitrary: brokenJsonText.map((t) => ({ bytes: enc.encode(t), how: 'text' })) },
    { weight: 1, arbitrary: hostileBytes.map((b) => ({ bytes: b, how: 'bytes' })) },
  );
}

// ---- headers ----

/** A header's value: the right one, missing, empty, garbage, or given twice. */
export type HeaderValue = string | undefined | string[];

/** Values a header carrying a number or an id might get instead. */
export const hostileHeaderValue: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', ' ', '-1', '1.5', '1e3', 'NaN', 'Infinity', '0x10', '00000000000000001', '99999999999999999', '18446744073709551616', '__proto__', 'constructor', 'a.b', '*', '>'),
  fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
  fc.integer({ min: 1000, max: 8000 }).map((n) => '9'.repeat(n)),
  fc.tuple(fc.constantFrom('1', '2', 'x'), fc.constantFrom('3', '', 'y')).map(([a, b]) => [a, b]),
);

/** Header names no consumer expects (sent beside the real ones). */
export const junkHeaderNames = fc.constantFrom('Nats-Msg-Id', 'Content-Type', 'Lookout-Request', 'X-Junk', '__proto__', 'constructor', 'Lookout-Seq-', 'lookout-seq');
