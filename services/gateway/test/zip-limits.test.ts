import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildZip, type ZipEntry } from '@lookout/testkit';
import { classifyEntry, personFromFileName } from '../src/gallery/entry-names.js';
import { ZipError, ZipReader, type ZipLimits, type ZipScan } from '../src/gallery/zip-reader.js';

/** Incompressible bytes that start like a JPEG or PNG. */
const jpeg = (n = 2000) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(n)]);
const png = (n = 2000) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(n)]);

const LIMITS: ZipLimits = { maxEntries: 50, maxEntryBytes: 1_000_000, maxTotalBytes: 10_000_000, maxRatio: 100 };
let dir: string;
let n = 0;

async function scanOf(entries: ZipEntry[], limits: Partial<ZipLimits> = {}): Promise<{ scan: ZipScan; zip: ZipReader }> {
  const file = path.join(dir, `t${n++}.zip`);
  fs.writeFileSync(file, buildZip(entries));
  const zip = await ZipReader.open(file, { ...LIMITS, ...limits });
  return { scan: await zip.scan(), zip };
}

const codes = (scan: ZipScan) => Object.fromEntries(scan.rejected.map((r) => [r.entry, r.code]));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-limits-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ZIP reader for batch enrollment', () => {
  it('reads a good archive: folder-per-person and file-name styles, grouped per person, bytes intact', async () => {
    const a1 = jpeg();
    const files = [
      { name: 'ada_lovelace/', data: Buffer.alloc(0), store: true },
      { name: 'ada_lovelace/one.jpg', data: a1 },
      { name: 'ada_lovelace/two.PNG', data: png(), store: true },
      { name: 'grace_hopper_2.jpg', data: jpeg() },
      { name: 'Grace Hopper (3).jpeg', data: jpeg() },
      { name: '__MACOSX/ada_lovelace/._one.jpg', data: Buffer.from('resource fork') },
      { name: '.DS_Store', data: Buffer.from('finder') },
    ];
    const { scan, zip } = await scanOf(files);
    expect(scan.rejected).toEqual([]);
    expect(scan.images.map((i) => [i.entry, i.person, i.key])).toEqual([
      ['ada_lovelace/one.jpg', 'ada lovelace', 'ada lovelace'],
      ['ada_lovelace/two.PNG', 'ada lovelace', 'ada lovelace'],
      ['grace_hopper_2.jpg', 'grace hopper', 'grace hopper'],
      ['Grace Hopper (3).jpeg', 'Grace Hopper', 'grace hopper'],
    ]);
    expect((await zip.read(scan.images[0]!)).equals(a1)).toBe(true);
    zip.close();
  });

  it('refuses an entry that inflates more than the ratio allows (zip bomb), whatever its name, and goes on', async () => {
    const { scan } = await scanOf([
      { name: 'bomb.jpg', data: Buffer.concat([jpeg(10), Buffer.alloc(5_000_000)]) },
      { name: 'ok.jpg', data: jpeg() },
    ], { maxEntryBytes: 20_000_000 });
    expect(codes(scan)).toEqual({ 'bomb.jpg': 'compression_ratio' });
    expect(scan.rejected[0]?.message).toMatch(/100×/);
    expect(scan.images.map((i) => i.entry)).toEqual(['ok.jpg']);
  });

  it('does not trust the headers: a bomb that declares a small size is stopped while inflating', async () => {
    const { scan } = await scanOf([{ name: 'liar.jpg', data: Buffer.concat([jpeg(10), Buffer.alloc(5_000_000)]), declaredSize: 5000 }]);
    expect(scan.images).toEqual([]);
    expect(['compression_ratio', 'corrupt_entry', 'entry_too_large']).toContain(scan.rejected[0]?.code);
  });

  it('refuses an entry larger than the per-entry limit, by its header and by its bytes', async () => {
    const big = jpeg(200_000);
    const { scan } = await scanOf([
      { name: 'big.jpg', data: big },
      { name: 'big-liar.jpg', data: big, store: false, declaredSize: 1000 },
      { name: 'small.jpg', data: jpeg() },
    ], { maxEntryBytes: 100_000 });
    expect(codes(scan)['big.jpg']).toBe('entry_too_large');
    expect(codes(scan)['big-liar.jpg']).toMatch(/entry_too_large|corrupt_entry/);
    expect(scan.images.map((i) => i.entry)).toEqual(['small.jpg']);
  });

  it('fails the whole archive with too many entries, before reading any', async () => {
    const file = path.join(dir, 'many.zip');
    fs.writeFileSync(file, buildZip(Array.from({ length: 6 }, (_, i) => ({ name: `p${i}.jpg`, data: jpeg(100) }))));
    await expect(ZipReader.open(file, { ...LIMITS, maxEntries: 5 })).rejects.toMatchObject({ code: 'too_many_entries', message: expect.stringMatching(/6 entries; at most 5/) });
  });

  it('fails the whole archive when the inflated total passes the limit', async () => {
    const entries = Array.from({ length: 4 }, (_, i) => ({ name: `p${i}.jpg`, data: jpeg(50_000) }));
    const file = path.join(dir, 'total.zip');
    fs.writeFileSync(file, buildZip(entries));
    const zip = await ZipReader.open(file, { ...LIMITS, maxTotalBytes: 120_000 });
    await expect(zip.scan()).rejects.toMatchObject({ code: 'zip_too_large' });
    zip.close();
  });

  it('fails the whole archive when two entries share a name (issue 17: two people merged into one subject), naming the entry', async () => {
    const file = path.join(dir, `t${n++}.zip`);
    fs.writeFileSync(file, buildZip([{ name: 'joe/1.jpg', data: jpeg() }, { name: 'ada.jpg', data: jpeg() }, { name: 'joe/1.jpg', data: jpeg() }]));
    const zip = await ZipReader.open(file, LIMITS);
    const err = await zip.scan().catch((e: unknown) => e);
    zip.close();
    expect(err).toBeInstanceOf(ZipError);
    expect(err).toMatchObject({ code: 'duplicate_entry', message: expect.stringContaining('"joe/1.jpg"') });
    // The same name in another Unicode normalisation is the same name.
    const nfd = await scanOf([{ name: 'Ame\u0301lie.jpg', data: jpeg() }]).then(({ scan, zip: z }) => (z.close(), scan));
    expect(nfd.images).toHaveLength(1);
    const file2 = path.join(dir, `t${n++}.zip`);
    fs.writeFileSync(file2, buildZip([{ name: 'Am\u00e9lie.jpg', data: jpeg() }, { name: 'Ame\u0301lie.jpg', data: jpeg() }]));
    const zip2 = await ZipReader.open(file2, LIMITS);
    await expect(zip2.scan()).rejects.toMatchObject({ code: 'duplicate_entry' });
    zip2.close();
    // Names that differ only in case are two entries of one person (grouping is case-insensitive), not refused.
    const { scan, zip: z3 } = await scanOf([{ name: 'Ada/1.jpg', data: jpeg() }, { name: 'ada/1.jpg', data: jpeg() }]);
    z3.close();
    expect(scan.images.map((i) => i.key)).toEqual(['ada', 'ada']);
  });

  it('refuses path traversal, absolute paths, backslashes and deep folders, per entry', async () => {
    const { scan } = await scanOf([
      { name: '../evil.jpg', data: jpeg() },
      { name: 'ada/../../evil2.jpg', data: jpeg() },
      { name: '/etc/abs.jpg', data: jpeg() },
      { name: 'C:/win.jpg', data: jpeg() },
      { name: 'ada\\back.jpg', data: jpeg() },
      { name: 'people/ada/deep.jpg', data: jpeg() },
      { name: 'ada/fine.jpg', data: jpeg() },
    ]);
    expect(codes(scan)).toEqual({
      '../evil.jpg': 'unsafe_path',
      'ada/../../evil2.jpg': 'unsafe_path',
      '/etc/abs.jpg': 'unsafe_path',
      'C:/win.jpg': 'unsafe_path',
      'ada\\back.jpg': 'unsafe_path',
      'people/ada/deep.jpg': 'too_deep',
    });
    expect(scan.rejected.find((r) => r.entry === '../evil.jpg')?.message).toMatch(/traversal/);
    expect(scan.images.map((i) => i.entry)).toEqual(['ada/fine.jpg']);
  });

  it('refuses non-images by extension and by content (magic bytes)', async () => {
    const { scan } = await scanOf([
      { name: 'notes.txt', data: Buffer.from('hello') },
      { name: 'fake.jpg', data: Buffer.from('this is text pretending to be a JPEG') },
      { name: 'tiny.png', data: Buffer.from([0x89, 0x50]) },
      { name: '123.jpg', data: jpeg() },
    ]);
    expect(codes(scan)).toEqual({ 'notes.txt': 'not_image', 'fake.jpg': 'not_image', 'tiny.png': 'not_image', '123.jpg': 'no_name' });
    expect(scan.rejected.find((r) => r.entry === 'fake.jpg')?.message).toMatch(/not a JPEG or PNG/);
  });

  it('says clearly when the upload is not a ZIP at all', async () => {
    const file = path.join(dir, 'not.zip');
    fs.writeFileSync(file, randomBytes(5000));
    const err = await ZipReader.open(file, LIMITS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZipError);
    expect(err).toMatchObject({ code: 'not_zip', message: expect.stringMatching(/not a readable ZIP/) });
  });
});

describe('person names from paths', () => {
  it.each([
    ['ada_lovelace_2.jpg', 'ada lovelace'],
    ['ada_lovelace.jpg', 'ada lovelace'],
    ['Ada Lovelace (3).png', 'Ada Lovelace'],
    ['jean-luc_picard-01.jpeg', 'jean-luc picard'],
    ['ada__lovelace___7.jpg', 'ada lovelace'],
  ])('%s → %s', (file, person) => expect(personFromFileName(file)).toBe(person));

  it('takes the folder name as is (digits kept) in the folder form', () => {
    expect(classifyEntry('R2-D2/photo_1.jpg')).toEqual({ kind: 'image', person: 'R2-D2', key: 'r2-d2' });
    expect(classifyEntry('R2-D2/')).toEqual({ kind: 'directory' });
  });
});
