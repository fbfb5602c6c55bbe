import { makeFaceSplit, readFaceManifest, readFaceSplit, FACE_SPLIT_SEED, FACE_SPLIT_RULE } from '@lookout/testkit';

/** test/fixtures/faces/split.json and the manifest's `split` fields are what the rule in face-split.ts gives. */
describe('the tuning / test split of the face fixtures', () => {
  const manifest = readFaceManifest();
  const split = readFaceSplit();

  it('is the rule applied with the recorded seed', () => {
    expect(split.seed).toBe(FACE_SPLIT_SEED);
    expect(split.rule).toBe(FACE_SPLIT_RULE);
    expect(split).toEqual(makeFaceSplit(manifest, split.seed));
  });

  it('marks every manifest entry with its half, no person in both', () => {
    const half = (lists: { test: string[] }, x: string) => (lists.test.includes(x) ? 'test' : 'tune');
    for (const [person, entries] of Object.entries(manifest.identities)) for (const e of entries) expect([e.file, e.split]).toEqual([e.file, half(split.identities, person)]);
    for (const e of manifest.expressions) expect([e.file, e.split]).toEqual([e.file, half(split.expressions, e.file)]);
    for (const e of manifest.group) expect([e.file, e.split]).toEqual([e.file, half(split.group, e.file)]);
    expect(split.identities.test.filter((p) => split.identities.tune.includes(p))).toEqual([]);
    expect(split.identities.test.length + split.identities.tune.length).toBe(Object.keys(manifest.identities).length);
    expect(split.group.test.length + split.group.tune.length).toBe(manifest.group.length);
  });
});
