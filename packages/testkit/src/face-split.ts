// The tuning / test split of the face fixtures (test/fixtures/faces): which identities,
// expression images and group photos thresholds may be tuned on, and which only measure.
// The rule is here, once: test/repo/face-split.test.ts checks that split.json and the
// `split` field of every manifest entry are what it gives, and bench/accuracy.mjs reports
// both halves. docs/accuracy.md explains the choice.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './services.js';

export type FaceHalf = 'tune' | 'test';
export const FACE_FIXTURES = path.join(FIXTURES, 'faces');
export const FACE_SPLIT_SEED = 'lookout-faces-split-1';
export const FACE_SPLIT_RULE = [
  'key(x) = sha256(seed + ":" + x) in hex; "snake" order assigns positions 0,1,2,3,4,5,… to test, tune, tune, test, test, tune, … (balances sizes).',
  'identities: by person (no person in both halves). Two strata, in this order: the BBT face crops (fa_ files), then the photos; within each, people sorted by image count (most first), ties by key(person); snake order within each stratum.',
  'expressions: by image, stratified by label: within each label, images sorted by key(file); snake order within the label. With one image per label every image is in the test half (nothing in Lookout is tuned on expression labels: the label is the model\'s argmax).',
  'group: by photo. Photos sorted by source prefix (fr_, df_, fa_), then faces (most first), ties by key(file); one snake order over all of them.',
].join(' ');

const SNAKE: FaceHalf[] = ['test', 'tune', 'tune', 'test'];
const key = (seed: string, x: string) => createHash('sha256').update(`${seed}:${x}`).digest('hex');
const byKey = (seed: string) => (a: string, b: string) => (key(seed, a) < key(seed, b) ? -1 : key(seed, a) > key(seed, b) ? 1 : 0);

export interface FaceManifest {
  identities: Record<string, Array<{ file: string; split?: FaceHalf }>>;
  expressions: Array<{ file: string; label: string; split?: FaceHalf }>;
  group: Array<{ file: string; faces: number; split?: FaceHalf }>;
}

export interface FaceSplit {
  seed: string;
  rule: string;
  identities: Record<FaceHalf, string[]>;
  expressions: Record<FaceHalf, string[]>;
  group: Record<FaceHalf, string[]>;
}

function halves(ordered: string[][]): Record<FaceHalf, string[]> {
  const out: Record<FaceHalf, string[]> = { tune: [], test: [] };
  for (const stratum of ordered) stratum.forEach((x, i) => out[SNAKE[i % 4]!].push(x));
  return { tune: out.tune.sort(), test: out.test.sort() };
}

/** The split the rule gives for a manifest (FACE_SPLIT_RULE). */
export function makeFaceSplit(manifest: FaceManifest, seed = FACE_SPLIT_SEED): FaceSplit {
  const cmp = byKey(seed);
  const people = Object.keys(manifest.identities);
  const isCrop = (p: string) => manifest.identities[p]!.every((e) => path.basename(e.file).startsWith('fa_'));
  const order = (ps: string[]) => [...ps].sort((a, b) => manifest.identities[b]!.length - manifest.identities[a]!.length || cmp(a, b));
  const identities = halves([order(people.filter(isCrop)), order(people.filter((p) => !isCrop(p)))]);

  const labels = [...new Set(manifest.expressions.map((e) => e.label))].sort();
  const expressions = halves(labels.map((l) => manifest.expressions.filter((e) => e.label === l).map((e) => e.file).sort(cmp)));

  const prefixes = ['fr_', 'df_', 'fa_'];
  const rank = (f: string) => prefixes.findIndex((p) => path.basename(f).startsWith(p));
  const faces = new Map(manifest.group.map((g) => [g.file, g.faces]));
  const groupOrder = manifest.group.map((g) => g.file).sort((a, b) => rank(a) - rank(b) || faces.get(b)! - faces.get(a)! || cmp(a, b));
  const group = halves([groupOrder]);
  return { seed, rule: FACE_SPLIT_RULE, identities, expressions, group };
}

export function readFaceManifest(): FaceManifest {
  return JSON.parse(fs.readFileSync(path.join(FACE_FIXTURES, 'manifest.json'), 'utf8')) as FaceManifest;
}

/** test/fixtures/faces/split.json, as committed. */
export function readFaceSplit(): FaceSplit {
  return JSON.parse(fs.readFileSync(path.join(FACE_FIXTURES, 'split.json'), 'utf8')) as FaceSplit;
}
